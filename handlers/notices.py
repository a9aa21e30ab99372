"""Notices and consultations by chat: read back and send on 1; acknowledgements, votes, figures,
and a resident's 「不要再打了」."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.conversation import State
from core.errors import NotFoundError, PermissionDenied
from core.messages import Reply, menu
from data.services.consultations import cast_vote, figures, tally_words
from data.services.notice_calls import stop_calls
from data.services.notices import (
    Scope,
    acknowledge,
    check_rate,
    get_notice,
    households_in,
    local_time,
    require_sender,
    resolve_scope,
    send,
)
from handlers.base import Result, Turn, ask, done, handler

CONFIRM = menu(("1", "choice.send", "notice.send"), ("2", "choice.dont_send", "notice.cancel"))


@handler("notice.draft")
def draft(turn: Turn) -> Result:
    """Read the notice (or consultation) back with its scope and the number of households."""
    svc, slots = turn.svc, turn.slots
    try:
        require_sender(svc, turn.actor, slots["kind"])
        scope = resolve_scope(svc, turn.actor, slots.get("scope", ""))
        check_rate(svc, turn.actor)
    except PermissionDenied as err:
        if err.reply_key == "notice.out_of_scope":
            return done(Reply(err.reply_key, {"scope": str(err)}))
        return done(Reply(err.reply_key if err.reply_key != "error.permission" else "notice.refused"))
    text = slots["text"].strip()
    if len(text) > svc.notices.max_chars:
        return done(Reply("notice.too_long", {"limit": str(svc.notices.max_chars)}))
    count = len(households_in(svc, scope))
    if count == 0:
        return done(Reply("notice.nobody", {"scope": scope.label}))
    params = {"text": text, "scope": scope.label, "count": str(count)}
    keep = {"kind": slots["kind"], "text": text, "scope": [scope.kind, scope.ref, scope.label]}
    if slots["kind"] == "consult":
        options = list(slots.get("options") or ())
        if len(options) < 2:
            return done(Reply("notice.no_options"))
        closes = closing_time(turn, slots.get("deadline"))
        keep |= {"options": options, "closes_at": closes.isoformat()}
        params |= {"options": options_words(options), "closes": local_time(svc, closes)}
        return ask([Reply("notice.consult_read_back", params, CONFIRM)], State.NOTICE_CONFIRM, **keep)
    return ask([Reply("notice.read_back", params, CONFIRM)], State.NOTICE_CONFIRM, **keep)


def options_words(options: list[str]) -> str:
    return " ".join(f"{n} {label}" for n, label in enumerate(options, start=1))


def closing_time(turn: Turn, said: dict | None) -> datetime:  # type: ignore[type-arg]
    """The closing time said (「周五 18 点」) as naive UTC; the default when none or already past."""
    svc = turn.svc
    now = svc.clock.now()
    default = now + timedelta(hours=svc.notices.consult_default_hours)
    if not said:
        return default
    tz = ZoneInfo(svc.timezone)
    local_now = now.replace(tzinfo=UTC).astimezone(tz)
    day = local_now.date()
    if said.get("day_offset") is not None:
        day = day + timedelta(days=said["day_offset"])
    elif said.get("weekday") is not None:
        ahead = (said["weekday"] - day.weekday()) % 7 + (7 if said.get("next_week") else 0)
        day = day + timedelta(days=ahead)
    elif said.get("date") is not None:
        try:
            day = day.replace(month=said.get("month") or day.month, day=said["date"])
        except ValueError:
            return default
        if day < local_now.date():
            day = day.replace(year=day.year + 1)
    local = datetime(day.year, day.month, day.day, said["hour"], said.get("minute", 0), tzinfo=tz)
    if local <= local_now and said.get("weekday") is not None:
        local += timedelta(days=7)
    at = local.astimezone(UTC).replace(tzinfo=None)
    return at if at > now else default


@handler("notice.send")
def commit(turn: Turn) -> Result:
    slots = turn.state.slots
    if "text" not in slots:
        return done(Reply("help.not_understood"))
    kind, ref, label = slots["scope"]
    closes = datetime.fromisoformat(slots["closes_at"]) if slots.get("closes_at") else None
    sent = send(
        turn.svc,
        turn.actor,
        kind=slots["kind"],
        text=slots["text"],
        scope=Scope(kind, ref, label),
        options=tuple(slots.get("options") or ()),
        closes_at=closes,
    )
    params = {"notice_no": str(sent.notice_id), "count": str(sent.households), "calls": str(sent.calls_now)}
    if slots["kind"] == "consult":
        return done(Reply("notice.consult_sent", {**params, "closes": local_time(turn.svc, closes)}))
    return done(Reply("notice.sent", params))


@handler("notice.cancel")
def cancel(turn: Turn) -> Result:
    return done(Reply("notice.cancelled"))


@handler("notice.ack")
def acknowledged(turn: Turn) -> Result:
    no = turn.slots.get("arg") or turn.state.slots.get("notice_no")
    if not no or not acknowledge(turn.svc, turn.actor, str(no), turn.inbound.channel):
        return done(Reply("notice.ack_none"))
    return done(Reply("notice.ack_thanks", {"notice_no": str(no)}))


@handler("vote.cast")
def vote(turn: Turn) -> Result:
    no, _, choice = str(turn.slots.get("arg") or "").partition(":")
    if not choice:
        no, choice = turn.slots.get("notice_no", ""), turn.slots.get("choice", "")
    try:
        label, changed = cast_vote(turn.svc, turn.actor, no, choice, turn.inbound.channel)
    except NotFoundError:
        return done(Reply("notice.not_found"))
    except PermissionDenied as err:
        return done(Reply(err.reply_key, {"notice_no": no}))
    key = "notice.vote_changed" if changed else "notice.vote_thanks"
    return done(Reply(key, {"notice_no": no, "choice": label}))


@handler("notice.figures")
def receipts(turn: Turn) -> Result:
    no = str(turn.slots.get("notice_no", ""))
    try:
        fig = figures(turn.svc, turn.actor, no)
    except NotFoundError:
        return done(Reply("notice.not_found"))
    except PermissionDenied:
        return done(Reply("error.permission"))
    params = {
        "notice_no": no,
        "count": str(fig.households),
        "delivered": str(fig.delivered),
        "acknowledged": str(fig.acknowledged),
        "called": str(fig.called),
        "answered": str(fig.answered),
        "unreached": str(len(fig.unreached)),
    }
    if fig.kind == "consult":
        notice = get_notice(turn.svc, no)
        state = "@notice.state_closed" if fig.closed else "@notice.state_open"
        first = Reply(
            "notice.consult_figures",
            {**params, "voted": str(fig.voted), "tally": tally_words(turn.svc, notice, fig), "state": state},
        )
    else:
        first = Reply("notice.figures", params)
    if fig.unreached:
        return done(first, Reply("notice.unreached", {"addresses": "、".join(fig.unreached)}))
    return done(first, Reply("notice.all_reached"))


@handler("notice.stop_calls")
def no_more_calls(turn: Turn) -> Result:
    if turn.actor.resident_id is None:
        return done(Reply("notice.stop_calls_none"))
    stop_calls(turn.svc, turn.actor)
    return done(Reply("notice.stop_calls"))
