"""Result types of understanding: plain frozen dataclasses, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field

INTENTS = (
    "report",
    "emergency",
    "query_status",
    "urge",
    "cancel",
    "rate",
    "human",
    "confirm",
    "deny",
    "greet",
    "help",
    "thanks",
    "goodbye",
    "out_of_scope",
)
CATEGORIES = ("elder_care", "child_care", "mediation", "facilities", "affairs")


@dataclass(frozen=True)
class Address:
    """A household address inside the community: building (栋), unit (单元), room (室)."""

    building: str | None = None
    unit: str | None = None
    room: str | None = None
    text: str = ""


@dataclass(frozen=True)
class TimeExpr:
    """A relative date/time as said ("明天下午"), resolved against no clock: offsets only."""

    text: str
    day_offset: int | None = None  # 0 today, 1 tomorrow, -7 last week ...
    part_of_day: str | None = None  # morning | noon | afternoon | evening | night
    week_offset: int | None = None
    weekday: int | None = None  # 1 Monday ... 7 Sunday, when a day of the week was named


@dataclass(frozen=True)
class Entities:
    address: Address | None = None
    ticket_no: str | None = None
    phone: str | None = None
    time: TimeExpr | None = None
    person: str | None = (
        None  # who is affected: self, mother, father, spouse, grandchild, child, neighbor ...
    )
    person_text: str | None = None
    rating: int | None = None  # 1 satisfied, 2 basically satisfied, 3 not satisfied (when said)
    digit: str | None = None  # the whole message was a keypad/menu digit
    on_behalf: str | None = None  # proxy report: who it is for ("王婆婆" in 帮 3 栋 502 王婆婆报)


@dataclass(frozen=True)
class Alternative:
    intent: str
    category: str | None
    item: str | None
    score: float


@dataclass(frozen=True)
class Parse:
    text: str
    normalized: str
    intent: str
    category: str | None = None
    item: str | None = None
    urgent: bool = False
    confidence: float = 0.0
    alternatives: tuple[Alternative, ...] = ()
    entities: Entities = field(default_factory=Entities)
    risk: str | None = None  # emergency | suspected (ask the safety question first) | None
    risk_cues: tuple[str, ...] = ()  # what made it so ("medical:喘不上气"), for the log
    complaint: bool = False  # long and shaped like a complaint or a request to the authorities
