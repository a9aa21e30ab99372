"""Activities by chat: residents 报名 / 取消报名 (or press 1 on the announcement); leaders and staff
发起活动 标题；时间；地点；人数, read the 名单 and mark who came with 签到."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from core.errors import NotFoundError, PermissionDenied
from core.messages import Reply
from data.services import ServiceContext
from data.services.activities import cancel, create, find_for, params, sign_up
from data.services.attendance import mark_attendance, roster
from data.services.handling import audit
from handlers.base import Result, Turn, done, handler

_WHEN = re.compile(
    r"(?:(?P<y>\d{4})[-年/.])?(?P<m>\d{1,2})[-月/.](?P<d>\d{1,2})[日号]?\s*"
    r"(?P<part>上午|早上|中午|下午|晚上)?\s*(?P<h>\d{1,2})(?:[:：点时](?P<min>\d{1,2}|半)?分?)?"
)
ROSTER_SHOWN = 40


def parse_when(text: str, now_local: datetime) -> datetime | None:
    """「12月6日下午3点」「2026-12-06 15:00」 as a local time (the year is the next such date)."""
    m = _WHEN.search(text)
    if not m:
        return None
    hour = int(m.group("h"))
    if m.group("part") in ("下午", "晚上") and hour < 12:
        hour += 12
    minute = 30 if m.group("min") == "半" else int(m.group("min") or 0)
    try:
        year = int(m.group("y") or now_local.year)
        at = datetime(year, int(m.group("m")), int(m.group("d")), hour, minute)
        if not m.group("y") and at < now_local:
            at = at.replace(year=year + 1)
    except ValueError:
        return None
    return at


def to_utc(svc: ServiceContext, local: datetime) -> datetime:
    return local.replace(tzinfo=ZoneInfo(svc.timezone)).astimezone(UTC).replace(tzinfo=None)


@handler("activity.sign_up")
def sign_up_here(turn: Turn) -> Result:
    no = turn.slots.get("arg") or turn.state.slots.get("activity_no")
    if turn.actor.resident_id is None:
        return done(Reply("activity.residents_only"))
    try:
        activity = find_for(turn.svc, turn.actor, no)
    except NotFoundError:
        return done(Reply("activity.none"))
    result = sign_up(turn.svc, turn.actor, activity)
    p = {**params(turn.svc, activity), "position": str(result.position)}
    return done(Reply(f"activity.{result.status}", p))


@handler("activity.cancel")
def cancel_here(turn: Turn) -> Result:
    if turn.actor.resident_id is None:
        return done(Reply("activity.residents_only"))
    try:
        activity = find_for(turn.svc, turn.actor, turn.slots.get("arg"), signed_only=True)
        cancel(turn.svc, turn.actor, activity)
    except NotFoundError:
        return done(Reply("activity.not_signed"))
    return done(Reply("activity.cancelled", params(turn.svc, activity)))


def organize(turn: Turn, op: str, no: str | None, note: str) -> Result:
    """A leader's or staff member's activity command: 发起活动 · 名单 N · 签到 N 1 3 5."""
    svc = turn.svc
    try:
        if op == "create_activity":
            return _create(turn, note)
        if not no:
            return done(Reply("activity.ask_no"))
        if op == "roster":
            activity, lines = roster(svc, turn.actor, no)
            signed = sum(1 for line in lines if line.status == "signed")
            replies = [Reply("activity.roster_header", {**params(svc, activity), "count": str(signed)})]
            for line in lines[:ROSTER_SHOWN]:
                key = "activity.roster_line" if line.status == "signed" else "activity.roster_waiting"
                replies.append(Reply(key, {"n": str(line.n), "name": line.name, "address": line.address}))
            return done(*replies)
        numbers = [int(x) for x in re.findall(r"\d+", note)]
        came = mark_attendance(svc, turn.actor, no, numbers)
        return done(Reply("activity.attended", {"activity_no": no, "count": str(came)}))
    except NotFoundError:
        return done(Reply("activity.not_found"))
    except PermissionDenied:
        return done(Reply("error.permission"))


def _create(turn: Turn, spec: str) -> Result:
    parts = [p.strip() for p in re.split(r"[；;\n]", spec) if p.strip()]
    svc = turn.svc
    local_now = svc.local(svc.clock.now())
    when = parse_when(parts[1], local_now) if len(parts) == 4 else None
    capacity = re.search(r"\d+", parts[3]) if len(parts) == 4 else None
    if when is None or capacity is None:
        return done(Reply("activity.how_to_create"))
    try:
        activity, told = create(
            svc,
            turn.actor,
            title=parts[0],
            starts_at=to_utc(svc, when),
            place=parts[2],
            capacity=int(capacity.group()),
        )
    except ValueError:
        return done(Reply("activity.how_to_create"))
    except PermissionDenied:
        audit(svc, turn.actor, "refused", "create activity")
        return done(Reply("error.permission"))
    return done(Reply("activity.created", {**params(svc, activity), "count": str(told)}))
