"""The development console: type as any identity, see replies and pushed messages."""

from __future__ import annotations

import itertools
import uuid
from typing import TextIO

from sqlalchemy import select

from bot.app import App
from core.messages import Inbound
from data.models import PushedMessage
from data.services.directory import find_identity, split_ref


def run_console(app: App, ref: str, stdin: TextIO, stdout: TextIO) -> int:
    channel, external = split_ref(ref)
    counter = itertools.count(1)
    session_id = uuid.uuid4().hex[:12]
    last_pushed = 0
    stdout.write(app.strings.render("channel.console_banner", {"ref": ref}).text + "\n")
    stdout.flush()
    for line in stdin:
        text = line.rstrip("\n")
        if text.strip() in ("/quit", "/exit"):
            break
        answer = app.engine.handle(
            Inbound(channel, external, msg_id=f"console-{session_id}-{next(counter)}", text=text)
        )
        for m in answer.messages:
            stdout.write(f"> {m.text}\n")
        app.dispatcher.drain()
        last_pushed = _print_pushed(app, ref, last_pushed, stdout)
        stdout.flush()
    return 0


def _print_pushed(app: App, ref: str, after: int, stdout: TextIO) -> int:
    with app.db.session() as s:
        ident = find_identity(app.context(s), ref)
        if ident is None:
            return after
        for row in s.scalars(
            select(PushedMessage).where(PushedMessage.identity_id == ident.id, PushedMessage.id > after)
        ):
            stdout.write(app.strings.render("channel.console_pushed", {"text": row.text}).text + "\n")
            after = row.id
    return after
