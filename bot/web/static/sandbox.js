// The sandbox page: rooms, a group chat, private chats (one shown at a time), live via WebSocket.
"use strict";
(function () {
  const $ = (sel) => document.querySelector(sel);
  const state = { rooms: [], people: [], room: null, person: null, botName: "", now: null, ws: null, queue: [] };
  const byRoom = new Map();   // topic -> events
  const byPerson = new Map(); // person id -> events

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text; // textContent: nothing typed is ever parsed as HTML
    return e;
  }

  function timeOf(iso) { return iso ? iso.slice(5, 16).replace("T", " ") : ""; }

  function bubble(ev, mine) {
    const li = el("li", "msg " + (mine ? "mine" : "theirs") + (ev.urgent ? " urgent" : ""));
    const who = ev.type === "bot" ? state.botName : ev.sender_name;
    li.appendChild(el("span", "who", who + " · " + timeOf(ev.at)));
    li.appendChild(el("div", "text", ev.text));
    return li;
  }

  function remember(map, key, ev) {
    if (!map.has(key)) map.set(key, []);
    map.get(key).push(ev);
  }

  function route(ev, live) {
    if (ev.type === "said" && ev.room) remember(byRoom, ev.room, ev);
    else if (ev.type === "said") remember(byPerson, ev.sender_id, ev);
    else if (ev.to_room) remember(byRoom, ev.to_room, ev);
    else if (ev.to_person) {
      remember(byPerson, ev.to_person, ev);
      if (!state.people.some((p) => p.id === ev.to_person)) {
        state.people.push({ id: ev.to_person, name: ev.to_person, role: "居民", where: "" });
        renderPeople();
      }
    }
    if (!live) return;
    const topic = ev.room || ev.to_room;
    if (topic === state.room) renderRoom();
    else if (topic) mark("#room-list", "room", topic);
    const pid = ev.type === "said" && !ev.room ? ev.sender_id : ev.to_person;
    if (pid === state.person) renderDm();
    else if (pid) mark("#dm-people", "person", pid);
  }

  function mark(list, key, value) {
    const b = document.querySelector(`${list} button[data-${key}="${CSS.escape(value)}"]`);
    if (b) b.classList.add("unread");
  }

  function renderRooms() {
    const ul = $("#room-list");
    ul.replaceChildren();
    for (const r of state.rooms) {
      const li = el("li");
      const b = el("button", r.topic === state.room ? "here" : "", r.topic);
      b.type = "button";
      b.dataset.room = r.topic;
      b.addEventListener("click", () => { state.room = r.topic; renderRooms(); renderRoom(); });
      li.appendChild(b);
      ul.appendChild(li);
    }
  }

  function renderRoom() {
    $("#room-title").textContent = state.room || "—";
    const log = $("#group-log");
    log.replaceChildren(...(byRoom.get(state.room) || []).map((ev) => bubble(ev, ev.type === "said")));
    log.scrollTop = log.scrollHeight;
  }

  function renderPeople() {
    const list = $("#dm-people");
    for (const p of state.people) {
      if (list.querySelector(`button[data-person="${CSS.escape(p.id)}"]`)) continue;
      const b = el("button", "", "");
      b.type = "button";
      b.setAttribute("role", "tab");
      b.dataset.person = p.id;
      b.appendChild(el("strong", "", p.name));
      b.appendChild(el("small", "", " " + p.role + (p.where ? " · " + p.where : "")));
      b.addEventListener("click", () => choose(p.id));
      if ((byPerson.get(p.id) || []).length) b.classList.add("has-messages");
      list.appendChild(b);
    }
    if (!state.person && state.people.length) choose(state.people[0].id);
  }

  function choose(pid) {
    state.person = pid;
    for (const b of document.querySelectorAll("#dm-people button")) {
      const here = b.dataset.person === pid;
      b.classList.toggle("here", here);
      b.setAttribute("aria-selected", here ? "true" : "false");
      if (here) b.classList.remove("unread");
    }
    renderDm();
  }

  function renderDm() {
    const p = state.people.find((x) => x.id === state.person);
    $("#dm-title").textContent = p ? p.name + " · " + p.role + (p.where ? " · " + p.where : "") : "—";
    $("#dm-as").textContent = p ? p.name : "—";
    const log = $("#dm-log");
    log.dataset.person = state.person || "";
    log.replaceChildren(...(byPerson.get(state.person) || []).map((ev) => bubble(ev, ev.type === "said")));
    log.scrollTop = log.scrollHeight;
  }

  function showClock(iso) {
    state.now = iso;
    $("#clock-now").textContent = iso.slice(0, 16).replace("T", " ");
    $("#jump-to").value = iso.slice(0, 16);
  }

  function showError(text) {
    const p = $("#sandbox-error");
    p.textContent = text;
    p.hidden = false;
    setTimeout(() => { p.hidden = true; }, 5000);
  }

  function emit(obj) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(obj));
    else state.queue.push(obj);
  }

  function connect() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/sandbox/ws");
    state.ws = ws;
    ws.addEventListener("open", () => {
      document.body.dataset.live = "1";
      while (state.queue.length) ws.send(JSON.stringify(state.queue.shift()));
    });
    ws.addEventListener("message", (m) => {
      const ev = JSON.parse(m.data);
      if (ev.type === "clock") showClock(ev.now);
      else if (ev.type === "error") showError(ev.text);
      else route(ev, true);
    });
    ws.addEventListener("close", () => { document.body.dataset.live = "0"; setTimeout(connect, 1500); });
  }

  function localIso(d) {
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  function jumpBy(hours) {
    // Sandbox times are wall times of the bot's timezone; step on the naive local reading.
    const base = new Date(state.now.slice(0, 16));
    emit({ type: "jump", to: localIso(new Date(base.getTime() + hours * 3600e3)) });
  }

  function jumpEve() {
    const base = new Date(state.now.slice(0, 16));
    const day = state.cobuildingDay;
    let eve = new Date(base.getFullYear(), base.getMonth(), day - 1, 20, 0);
    if (eve <= base) eve = new Date(base.getFullYear(), base.getMonth() + 1, day - 1, 20, 0);
    emit({ type: "jump", to: localIso(eve) });
  }

  // Enter sends, Shift+Enter starts a new line (a 接龙 block is pasted or typed line by line).
  function sendOnEnter(textarea, form) {
    textarea.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
  }

  async function start() {
    const res = await fetch("/sandbox/state");
    const s = await res.json();
    state.rooms = s.rooms;
    state.people = s.people;
    state.botName = s.bot_name;
    state.cobuildingDay = s.cobuilding_day;
    state.room = s.rooms.length ? s.rooms[0].topic : null;
    const names = $("#resident-names");
    for (const n of s.residents) { const o = el("option"); o.value = n; names.appendChild(o); }
    $("#sender-name").value = s.residents[0] || "居民";
    for (const ev of s.history) route(ev, false);
    showClock(s.now);
    renderRooms();
    renderRoom();
    renderPeople();
    const groupForm = $("#group-form");
    groupForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = $("#group-text").value;
      if (!text.trim() || !state.room) return;
      emit({ type: "say", room: state.room, sender_name: $("#sender-name").value, text });
      $("#group-text").value = "";
    });
    sendOnEnter($("#group-text"), groupForm);
    const dmForm = $("#dm-form");
    dmForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = $("#dm-text").value;
      if (!text.trim() || !state.person) return;
      emit({ type: "say", room: null, sender_id: state.person, text });
      $("#dm-text").value = "";
    });
    sendOnEnter($("#dm-text"), dmForm);
    $("#jump-go").addEventListener("click", () => emit({ type: "jump", to: $("#jump-to").value }));
    for (const b of document.querySelectorAll(".jump-quick")) {
      b.addEventListener("click", () => jumpBy(Number(b.dataset.hours)));
    }
    $("#jump-eve").addEventListener("click", jumpEve);
    connect();
  }

  start();
})();
