"""The ticket status machine: which transitions are allowed. Pure, no I/O."""

from __future__ import annotations

from core.errors import LianhuError

SUBMITTED, ACCEPTED, IN_PROGRESS, RESOLVED, CLOSED, CANCELLED, REOPENED = (
    "submitted",
    "accepted",
    "in_progress",
    "resolved",
    "closed",
    "cancelled",
    "reopened",
)
STATUSES = (SUBMITTED, ACCEPTED, IN_PROGRESS, RESOLVED, CLOSED, CANCELLED, REOPENED)
# Still needs someone to act (a resolved ticket waits only for the resident's rating).
ACTIVE = (SUBMITTED, ACCEPTED, IN_PROGRESS, REOPENED)
OPEN = (*ACTIVE, RESOLVED)
FINAL = (CLOSED, CANCELLED)

TRANSITIONS: dict[str, frozenset[str]] = {
    SUBMITTED: frozenset({ACCEPTED, IN_PROGRESS, RESOLVED, CANCELLED}),
    ACCEPTED: frozenset({IN_PROGRESS, RESOLVED, CANCELLED}),
    IN_PROGRESS: frozenset({RESOLVED, CANCELLED}),
    REOPENED: frozenset({ACCEPTED, IN_PROGRESS, RESOLVED, CANCELLED}),
    RESOLVED: frozenset({CLOSED, REOPENED}),
    CLOSED: frozenset({REOPENED}),  # staff reopen a closed matter from the workbench
    CANCELLED: frozenset(),
}


class TransitionError(LianhuError, ValueError):
    """A ticket cannot move from its status to the one asked for."""

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"{current} -> {wanted} is not allowed")
        self.current = current
        self.wanted = wanted


def check(current: str, wanted: str) -> None:
    if wanted not in TRANSITIONS.get(current, frozenset()):
        raise TransitionError(current, wanted)


def can(current: str, wanted: str) -> bool:
    return wanted in TRANSITIONS.get(current, frozenset())
