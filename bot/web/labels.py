"""Case log entries in words a community worker reads: who did what, never raw ids or codes."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.domain import CaseAction
from bot.core.grid import Grid
from bot.web.auth import ONE_TIME_USER
from storage.models import Case, CaseEvent

ROLE_NAMES = {"building_head": "楼栋长", "secretary": "小区书记", "worker": "社区工作人员"}
STAGES = {"accept": "未按时接单", "resolve": "未按时办结"}
SCORE_WORDS = {5: "满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "不满意"}


@dataclass(frozen=True, slots=True)
class LogLine:
    """One case log entry as the console shows it."""

    actor: str
    action: str
    note: str


def rating_words(score: int | None) -> str:
    """A rating as the resident gave it: 满意 / 基本满意 / 不满意 (with the score)."""
    if score is None:
        return "—"
    return f"{SCORE_WORDS.get(score, '')}（{score}分）"


class Labeller:
    """Turns stored ids into the names the grid and the config give them."""

    def __init__(self, grid: Grid, console_names: dict[str, str]) -> None:
        self._grid = grid
        self._console = console_names

    def person(self, person_id: str, case: Case | None = None) -> str:
        """A person by name: a configured person, the reporter, a console user, the bot."""
        if person_id.startswith("console:"):
            name = person_id.removeprefix("console:")
            shown = "管理员" if name == ONE_TIME_USER else self._console.get(name, name)
            return f"{shown}（工作台）"
        if person_id.startswith("api:"):
            return f"{person_id.removeprefix('api:')}（接口）"
        if person_id == "bot":
            return "小邻（自动）"
        if case is not None and person_id == case.reporter_id:
            return case.reporter_name
        if person_id.startswith("web:"):
            return "居民（民情码）"
        return self._grid.name_of(person_id) or "居民"

    def _role_target(self, text: str) -> str:
        """ "building_head:wxid_zhou" → "楼栋长周师傅"."""
        role, _, pid = text.partition(":")
        if role in ROLE_NAMES and pid:
            name = self._grid.name_of(pid) or ""
            return f"{ROLE_NAMES[role]}{name}"
        return text

    def line(self, case: Case, ev: CaseEvent) -> LogLine:
        """One log entry in words."""
        try:
            action = CaseAction(ev.action).label
        except ValueError:  # a step written by a newer version
            action = ev.action
        note = ev.note or ""
        if ev.action in ("assigned", "transferred", "dispatched", "returned"):
            target, _, rest = note.partition(" ")
            note = f"给{self._role_target(target)}" + (f"：{rest}" if rest.strip() else "")
        elif ev.action == "sla_reminded":
            stage, _, pid = note.partition(":")
            note = f"提醒{self.person(pid, case)}（{STAGES.get(stage, '超时')}）"
        elif ev.action == "escalated":
            parts = note.split(":")
            stage = STAGES.get(parts[0], "")
            if "secretary" in parts:
                who = "小区书记" + (self._grid.name_of(parts[-1]) or "" if len(parts) > 2 else "")
            elif "workers" in parts:
                who = "社区工作人员"
            else:
                who = note
            note = f"上报{who}" + (f"（{stage}）" if stage else "")
        elif ev.action == "nudged":
            note = f"提醒{self.person(note, case)}" if note else ""
        elif ev.action == "rated":
            note = rating_words(int(note)) if note.isdigit() else note
        elif ev.action == "reminded":
            note = "提醒志愿者认领" if note == "volunteers" else note
        elif ev.action == "image":
            note = "在群里发了一张图片"
        return LogLine(actor=self.person(ev.actor_id, case), action=action, note=note)
