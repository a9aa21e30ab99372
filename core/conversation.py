"""Conversation types: who is speaking (Actor) and where their dialogue stands (DialogueState)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

STAFF_ROLES = ("leader", "grid", "staff", "duty", "provider")  # provider: a service resource (转介)


class State(StrEnum):
    """The question a conversation is waiting on (stored per identity; values are stable)."""

    IDLE = "idle"
    REPORT_CONFIRM = "report_confirm"
    REPORT_FIX = "report_fix"
    REPORT_ADDRESS = "report_address"
    REPORT_DESCRIPTION = "report_description"
    REPORT_CLARIFY = "report_clarify"
    PICK_TICKET = "pick_ticket"
    CANCEL_CONFIRM = "cancel_confirm"
    RATE = "rate"
    LEADER_REASON = "leader_reason"
    LEADER_TASK = "leader_task"
    BIND = "bind"
    OFFER_PERSON = "offer_person"  # 「要我把您的话转给联户长吗？」 after two messages we could not help with
    SAFETY_CHECK = "safety_check"  # 「您现在有危险吗？」 asked before anything else is done
    ACTIVITY_OFFER = "activity_offer"  # an activity was announced: 1 报名
    SERVICE_OFFER = "service_offer"  # 「要帮您登记，请联户长转介吗？」 after answering from the resource list
    NOTICE_CONFIRM = "notice_confirm"  # a notice or consultation read back to its sender: 1 sends it
    NOTICE_ACK = "notice_ack"  # a pushed notice: 「收到请回 1」
    NOTICE_VOTE = "notice_vote"  # a pushed consultation: the options by number

    @classmethod
    def parse(cls, name: str | None) -> State:
        """A stored name; one this version no longer knows starts the conversation afresh."""
        try:
            return cls(name or cls.IDLE)
        except ValueError:
            return cls.IDLE


@dataclass
class DialogueState:
    name: State = State.IDLE
    slots: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.name = State.parse(self.name)

    def to_json(self) -> dict[str, Any]:
        return {"name": str(self.name), "slots": self.slots}

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> DialogueState:
        raw = raw or {}
        return cls(State.parse(raw.get("name")), dict(raw.get("slots") or {}))


@dataclass(frozen=True)
class Actor:
    """The person behind one inbound message, as far as permissions are concerned."""

    identity_id: int
    channel: str
    external_id: str
    role: str  # resident | leader | grid | staff | duty | unbound
    name: str = ""
    resident_id: int | None = None
    staff_id: int | None = None
    household_id: int | None = None
    unit_id: int | None = None
    grid_id: int | None = None
    community_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def bound(self) -> bool:
        return self.role != "unbound"

    @property
    def ref(self) -> str:
        return f"{self.channel}:{self.external_id}"
