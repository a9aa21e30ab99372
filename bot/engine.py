"""The conversation engine: Inbound → nlu.parse → dialogue → handler → rendered replies.

One turn is one database transaction: the dedupe record, the dialogue state, any ticket change and
its outbox notifications commit together, so a crash loses nothing and a retry doubles nothing.
"""

from __future__ import annotations

import functools
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError

import handlers
from bot.dialogue import Action, decide
from bot.holding import HELD, hold
from core.catalog import DemandCatalog
from core.conversation import Actor, DialogueState, State
from core.errors import LianhuError
from core.messages import Inbound, Reply
from core.render import OutMessage, Renderer, StringCatalog
from core.settings import Settings
from data.clock import Clock
from data.db import Database
from data.resources import ResourceCatalog
from data.services import ServiceContext
from data.services.channels import enqueue_late_reply
from data.services.risk import CONFIRMED, DECLINED, NO_ANSWER, UNCLEAR, record_answer
from data.services.turns import close_turn, open_turn, touch
from handlers.base import Result, Turn, TurnOptions
from nlu.nbest import choose, heard_confidence
from nlu.types import Parse

log = logging.getLogger("lianhu.engine")
# After 「没有危险」, a message that raised the safety question is not answered with 「帮不上」, a goodbye,
# a thanks, the menu or 「请再说一遍」, nor dropped as a 「不对」 to a pending report: its words go to a
# person as a 留言 (it held a sign of danger, and the machine cannot place it). 我不行了 reads as a no,
# 求你了 as a thanks.
DISMISSED_AFTER_DECLINE = (
    *("help.out_of_scope", "help.not_understood", "help.goodbye", "help.thanks", "help.greet", "help.menu"),
    *("report.drop", "cancel.start", "dialogue.retry"),
)
MAX_TEXT = 500


class Parser(Protocol):
    def parse(self, text: str) -> Parse: ...


class ShortTextCache:
    """Remembers the parse of short messages. 对, 好的, 不用了, 查询进度 and the menu buttons' words
    are a small set said over and over, and understanding is pure: the same text always gets the
    same parse. Long messages (new requests) are nearly always new and are not kept."""

    def __init__(self, parser: Parser, max_chars: int = 6, size: int = 4096) -> None:
        self.parser = parser
        self.max_chars = max_chars
        self._cached = functools.lru_cache(maxsize=size)(parser.parse)

    def parse(self, text: str) -> Parse:
        return self._cached(text) if len(text) <= self.max_chars else self.parser.parse(text)

    def parse_spoken(self, text: str) -> Parse:
        return spoken_parse(self.parser)(text)


def spoken_parse(parser: Parser) -> Callable[[str], Parse]:
    """The parser's reading of recognized speech (nlu.Parser.parse_spoken), else its plain parse."""
    return getattr(parser, "parse_spoken", None) or parser.parse


@dataclass
class Answer:
    messages: list[OutMessage]
    duplicate: bool = False
    actor: Actor | None = None
    parse: Parse | None = None
    action: str = ""
    state: State | None = None  # the dialogue state after the turn (None for a stored answer)
    spoken: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    queued_late: bool = False  # the answer went to the outbox (the platform stopped waiting)

    @property
    def text(self) -> str:
        return "\n".join(m.text for m in self.messages)


class _Refused(Exception):  # noqa: N818 - a control-flow signal, not an error
    def __init__(self, action: str, error: LianhuError) -> None:
        self.action, self.error = action, error


class Engine:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        parser: Parser,
        catalog: DemandCatalog,
        strings: StringCatalog,
        clock: Clock,
        resources: ResourceCatalog | None = None,
    ) -> None:
        self.settings = settings
        self.resources = resources or ResourceCatalog()
        self.db = db
        self.parser = parser
        self.catalog = catalog
        self.renderer = Renderer(strings)
        self.clock = clock
        self.strings = strings

    def context(self, session: Any) -> ServiceContext:
        return ServiceContext.build(
            session, self.clock, self.catalog, self.strings, self.settings, self.resources
        )

    def handle(
        self, inbound: Inbound, *, unverified_caller: bool = False, late_after: float | None = None
    ) -> Answer:
        """Process one message exactly once per (identity, msg_id). `unverified_caller`: a phone number
        no resident is registered with (may still report, flagged); `late_after`: the monotonic time
        after which the platform stops waiting and the answer goes through the outbox instead."""
        options = TurnOptions(self.settings.asr.min_confidence, unverified_caller)
        refused: LianhuError | None = None
        for attempt in range(4):
            try:
                return self._handle_once(inbound, options, late_after, refused)
            except _Refused as r:
                # The handler refused: its writes are rolled back with the whole turn, which is
                # then done again with the refusal as the answer (cheaper than a savepoint per turn).
                log.info("handler %s refused: %s", r.action, type(r.error).__name__)
                refused = r.error
            except IntegrityError:
                # A concurrent delivery of the same message (or a new identity) won the race: retry,
                # and the retry finds the stored answer.
                if attempt == 3:
                    raise
                log.info("retrying turn after a concurrent write")
        raise AssertionError("unreachable")

    def _handle_once(
        self, inbound: Inbound, options: TurnOptions, late_after: float | None, refused: LianhuError | None
    ) -> Answer:
        t0 = time.perf_counter()
        with self.db.session() as session:
            ctx = self.context(session)
            record = open_turn(
                ctx, inbound.channel, inbound.sender_ref, inbound.msg_id, lock=not self.db.is_sqlite
            )
            if record.prior is not None:
                return Answer([OutMessage.from_json(m) for m in record.prior], duplicate=True)
            touch(ctx, record, self.clock.now())
            actor, state = record.actor, record.state()
            text = (inbound.text or "").strip()[:MAX_TEXT]
            t1 = time.perf_counter()
            parse, inbound = self._understand(inbound, text)
            t2 = time.perf_counter()
            guest = options.unverified_caller
            action = decide(state, parse, actor, self.settings.nlu.confidence_threshold, guest=guest)
            at, said, heard = state, parse, inbound
            if action.replay is not None:
                at, said, heard, action = self._replay(ctx, state, action, inbound, actor, guest)
            if refused is not None:
                result = Result([Reply(refused.reply_key)], state)
            else:
                turn = Turn(ctx, actor, at, said, heard, dict(action.slots), options)
                result = hold(at, action, self._run(turn, action))
            messages = [self.renderer.render(r) for r in result.replies]
            queued = late_after is not None and time.monotonic() > late_after and bool(messages)
            if queued:
                # The platform stopped waiting: the answer goes out through the outbox, committed with the turn.
                enqueue_late_reply(
                    ctx, inbound.channel, inbound.sender_ref, inbound.msg_id or "", [m.text for m in messages]
                )
            session.flush()  # the handler's ORM changes, before the Core writes that close the turn
            close_turn(ctx, record, result.state, inbound.msg_id, [m.to_json() for m in messages])
        t3 = time.perf_counter()
        timings = {"db": t1 - t0 + (t3 - t2), "nlu": t2 - t1}
        if log.isEnabledFor(logging.INFO):
            turn_id = secrets.token_hex(6)
            moved = f"{state.name}->{result.state.name}"
            log.info(
                "turn %s channel=%s identity=%s action=%s state=%s",
                turn_id,
                inbound.channel,
                record.identity_id,
                action.name,
                moved,
                extra={
                    "turn": {
                        "turn_id": turn_id,
                        "channel": inbound.channel,
                        "identity": record.identity_id,
                        "action": action.name,
                        "state": moved,
                        "ms": {k: round(v * 1000, 3) for k, v in (("total", t3 - t0), *timings.items())},
                    }
                },
            )
        return Answer(
            messages, False, actor, parse, action.name, result.state.name, inbound.spoken, timings, queued
        )

    def _understand(self, inbound: Inbound, text: str) -> tuple[Parse, Inbound]:
        """Parse the message; speech with n-best readings goes through the chooser (nlu.nbest), and a
        reading other than the first becomes the message's text, its confidence lowered by how much
        less likely the recognizer found it, and below the read-back threshold when a likely other
        reading means something else (so a doubtful hearing is read back)."""
        parse = spoken_parse(self.parser) if inbound.spoken else self.parser.parse
        if not inbound.asr_alternatives:
            return parse(text), inbound
        alternatives = tuple((t.strip()[:MAX_TEXT], lp) for t, lp in inbound.asr_alternatives)
        reading = choose(parse, text, alternatives)
        if reading.text == text and not reading.disputed:
            return reading.parse, inbound
        if reading.text != text:
            log.info("n-best: took another reading (%.3f)", reading.logprob)
        if reading.disputed:
            log.info("n-best: another likely reading means something else; reading back")
        conf = heard_confidence(inbound.asr_confidence, reading, self.settings.asr.min_confidence)
        return reading.parse, replace(inbound, text=reading.text, asr_confidence=conf)

    def _replay(
        self,
        ctx: ServiceContext,
        state: DialogueState,
        action: Action,
        inbound: Inbound,
        actor: Actor,
        guest: bool,
    ) -> tuple[DialogueState, Parse, Inbound, Action]:
        """The answer to the safety question acts on the message that raised it: an alert on yes (or
        silence, or a second unclear answer); on no, that message is handled as it was meant, in the
        conversation as it stood before the question."""
        text = action.replay or ""
        understand = spoken_parse(self.parser) if inbound.spoken else self.parser.parse
        parse = replace(understand(text), risk=None, risk_cues=())
        heard = replace(inbound, text=text)
        check = action.slots.get("check")
        if action.name == "safety.declined":
            record_answer(ctx, check, DECLINED)
            before = DialogueState.from_json(state.slots.get(HELD))
            threshold = self.settings.nlu.confidence_threshold
            meant = decide(before, parse, actor, threshold, guest=guest)
            unfiled = meant.name == "report.description_given" and parse.intent != "report"
            if meant.name in DISMISSED_AFTER_DECLINE or unfiled:
                # 他老是打我, no danger this minute, and nothing the machine can file: a person reads it
                meant = Action("message.leave")
            return before, parse, heard, meant
        outcome = {"safety.no_answer": NO_ANSWER, "safety.unclear": UNCLEAR}.get(action.name, CONFIRMED)
        return state, parse, heard, Action("emergency.report", {"check": check, "outcome": outcome})

    def _run(self, turn: Turn, action: Action) -> Result:
        """Run a handler; a typed error rolls the turn back and becomes its answer (see `handle`)."""
        handler = handlers.REGISTRY.get(action.name, handlers.REGISTRY["help.not_understood"])
        try:
            return handler(turn)
        except LianhuError as err:
            raise _Refused(action.name, err) from err

    def render(self, reply: Reply) -> OutMessage:
        return self.renderer.render(reply)
