"""Logging set-up: plain text or JSON lines. Phone numbers are masked in every log line (privacy)."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

# Not inside a longer run of letters or digits (a hex turn id such as f08472671367 is not a phone).
PHONE = re.compile(
    r"(?:(?<![0-9A-Za-z])|(?<=\+86)|(?<=\+86[ -]))(1[3-9]\d)(\d{4})(\d{4})(?![0-9A-Za-z])"
    r"|(?<![0-9A-Za-z])(0\d{2,3}-?)(\d{4})(\d{3,4})(?![0-9A-Za-z])"
)


def mask(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        if m.group(1):
            return f"{m.group(1)}****{m.group(3)}"
        return f"{m.group(4)}****{m.group(6)}"

    return PHONE.sub(repl, text)


class PhoneMaskFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts, level, logger, msg, and for a turn its id, channel, identity,
    action, state and timings in ms (the engine's `extra={"turn": ...}`)."""

    def __init__(self, mask_phones: bool = True) -> None:
        super().__init__()
        self.mask_phones = mask_phones

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        turn = getattr(record, "turn", None)
        if isinstance(turn, dict):
            line.update(turn)
        if record.exc_info:
            text = self.formatException(record.exc_info)
            line["exc"] = mask(text) if self.mask_phones else text
        return json.dumps(line, ensure_ascii=False)


def setup_logging(level: str = "INFO", mask_phones: bool = True, fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter(mask_phones))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if mask_phones:
        handler.addFilter(PhoneMaskFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
