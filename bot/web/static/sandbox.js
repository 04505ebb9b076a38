// The sandbox page: rooms, a group chat, one private chat per head/secretary/volunteer, live via WebSocket.
"use strict";
(function () {
  const $ = (sel) => document.querySelector(sel);
  const state = { rooms: [], people: [], room: null, botName: "", now: null, ws: null, queue: [] };
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
    if ((ev.room || ev.to_room) === state.room) renderRoom();
    else if (ev.room || ev.to_room) markUnread(ev.room || ev.to_room);
    const pid = ev.type === "said" && !ev.room ? ev.sender_id : ev.to_person;
    if (pid) renderDm(pid);
  }

  function markUnread(topic) {
    const b = document.querySelector(`#room-list button[data-room="${CSS.escape(topic)}"]`);
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
    const list = $("#dm-list");
    for (const p of state.people) {
      if (list.querySelector(`.dm[data-person="${CSS.escape(p.id)}"]`)) continue;
      const box = el("section", "dm");
      box.dataset.person = p.id;
      const head = el("h3", "", p.name + " · " + p.role + (p.where ? " · " + p.where : ""));
      const log = el("ol", "dm-log log");
      const form = el("form", "composer");
      const input = el("input", "dm-text");
      input.maxLength = 1000;
      input.placeholder = "以" + p.name + "的身份私聊：接单 1 / 待办 / 认领 W1";
      input.setAttribute("aria-label", p.name + " 私聊消息");
      const send = el("button", "dm-send", "发送");
      send.type = "submit";
      form.append(input, send);
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        if (!input.value.trim()) return;
        emit({ type: "say", room: null, sender_id: p.id, text: input.value });
        input.value = "";
      });
      box.append(head, log, form);
      list.appendChild(box);
      renderDm(p.id);
    }
  }

  function renderDm(pid) {
    const box = document.querySelector(`.dm[data-person="${CSS.escape(pid)}"]`);
    if (!box) return;
    const log = box.querySelector(".dm-log");
    log.replaceChildren(...(byPerson.get(pid) || []).map((ev) => bubble(ev, ev.type === "said")));
    log.scrollTop = log.scrollHeight;
    box.classList.toggle("active", (byPerson.get(pid) || []).length > 0);
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
    $("#group-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const text = $("#group-text").value;
      if (!text.trim() || !state.room) return;
      emit({ type: "say", room: state.room, sender_name: $("#sender-name").value, text });
      $("#group-text").value = "";
    });
    $("#jump-go").addEventListener("click", () => emit({ type: "jump", to: $("#jump-to").value }));
    for (const b of document.querySelectorAll(".jump-quick")) {
      b.addEventListener("click", () => jumpBy(Number(b.dataset.hours)));
    }
    $("#jump-eve").addEventListener("click", jumpEve);
    connect();
  }

  start();
})();
