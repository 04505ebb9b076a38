"""The 网格 (grid) as lookups: which room belongs to which compound, who heads which building."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.config import (
    CommunityConfig,
    CompoundConfig,
    Config,
    HotlinesConfig,
    PersonConfig,
    RoomConfig,
    VolunteerConfig,
)
from bot.core.domain import Role


@dataclass(frozen=True, slots=True)
class RoomInfo:
    """A configured room with the compound and community it belongs to."""

    room: RoomConfig
    compound: CompoundConfig
    community: CommunityConfig

    @property
    def single_building(self) -> str | None:
        """The building this room is for, when it is for exactly one."""
        return self.room.buildings[0] if len(self.room.buildings) == 1 else None


class Grid:
    """Read-only lookups over the configured grid; built once from the config."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._rooms: dict[str, RoomInfo] = {}
        self._compounds: dict[str, tuple[CompoundConfig, CommunityConfig]] = {}
        for community in config.grid:
            for compound in community.compounds:
                self._compounds[compound.name] = (compound, community)
                for room in compound.rooms:
                    self._rooms[room.topic] = RoomInfo(room, compound, community)
        # Asked for every sign-up and command (how the sender is addressed): a walk over a
        # city's people cost more than the sign-up's SQL.
        self._names: dict[str, str] = {}
        for person, _ in self.people():
            self._names.setdefault(person.id, person.name)

    def room(self, topic: str) -> RoomInfo | None:
        """The configured room with this topic, or None."""
        return self._rooms.get(topic)

    def rooms(self) -> list[RoomInfo]:
        """Every configured room, in config order."""
        return list(self._rooms.values())

    def compound(self, name: str) -> CompoundConfig:
        """The compound with this name (KeyError if unknown)."""
        return self._compounds[name][0]

    def compounds(self) -> list[CompoundConfig]:
        """Every configured compound, in config order."""
        return [c for c, _ in self._compounds.values()]

    def community_of(self, compound: str) -> CommunityConfig:
        """The community a compound belongs to."""
        return self._compounds[compound][1]

    def building_head(self, compound: str, building: str | None) -> PersonConfig | None:
        """The head of a building of a compound, if the building and its head are known."""
        if building is None:
            return None
        for b in self.compound(compound).buildings:
            if b.number == building:
                return b.head
        return None

    def has_building(self, compound: str, building: str) -> bool:
        """True when the compound lists this building."""
        return any(b.number == building for b in self.compound(compound).buildings)

    def secretary(self, compound: str) -> PersonConfig | None:
        """The compound's party branch secretary."""
        return self.compound(compound).secretary

    def workers(self, compound: str) -> list[PersonConfig]:
        """The community workers responsible for a compound."""
        return list(self.community_of(compound).workers)

    def volunteers(self, compound: str) -> list[VolunteerConfig]:
        """The compound's volunteers."""
        return list(self.compound(compound).volunteers)

    def hotlines(self, compound: str) -> HotlinesConfig:
        """Safety hotlines: the compound's own, else the global ones."""
        own = self.compound(compound).hotlines
        base = self._config.hotlines
        if own is None:
            return base
        return HotlinesConfig(
            fire=own.fire or base.fire,
            ambulance=own.ambulance or base.ambulance,
            gas=own.gas or base.gas,
            property=own.property or base.property,
        )

    def rooms_of(self, compound: str) -> list[RoomInfo]:
        """The rooms of one compound."""
        return [r for r in self._rooms.values() if r.compound.name == compound]

    def building_room(self, compound: str, building: str | None) -> RoomInfo | None:
        """The room of one building, else the compound's whole-compound room."""
        rooms = self.rooms_of(compound)
        for r in rooms:
            if building is not None and building in r.room.buildings:
                return r
        for r in rooms:
            if not r.room.buildings:
                return r
        return rooms[0] if rooms else None

    def name_of(self, person_id: str) -> str | None:
        """The configured name of a person, by WeChat id."""
        return self._names.get(person_id)

    def people(self) -> list[tuple[PersonConfig, Role]]:
        """Every configured person with a role label (head/secretary/worker/volunteer)."""
        out: list[tuple[PersonConfig, Role]] = []
        for community in self._config.grid:
            out.extend((w, Role.WORKER) for w in community.workers)
            for c in community.compounds:
                if c.secretary:
                    out.append((c.secretary, Role.SECRETARY))
                out.extend((b.head, Role.BUILDING_HEAD) for b in c.buildings if b.head)
                out.extend((v, Role.VOLUNTEER) for v in c.volunteers)
        return out

    def compounds_of_person(self, person_id: str) -> list[str]:
        """Compounds where this person has any role (head, secretary, volunteer, worker)."""
        out: list[str] = []
        for community in self._config.grid:
            is_worker = any(w.id == person_id for w in community.workers)
            for c in community.compounds:
                roles = (
                    is_worker
                    or (c.secretary is not None and c.secretary.id == person_id)
                    or any(b.head is not None and b.head.id == person_id for b in c.buildings)
                    or any(v.id == person_id for v in c.volunteers)
                )
                if roles:
                    out.append(c.name)
        return out

    def is_secretary_or_worker(self, compound: str, person_id: str) -> bool:
        """True for the compound's secretary and its community's workers."""
        sec = self.secretary(compound)
        return (sec is not None and sec.id == person_id) or any(
            w.id == person_id for w in self.workers(compound)
        )
