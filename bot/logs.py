"""Logging set-up. Phone numbers are masked in every log line (privacy)."""

from __future__ import annotations

import logging
import re

PHONE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)|(?<!\d)(0\d{2,3}-?)(\d{4})(\d{3,4})(?!\d)")


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


def setup_logging(level: str = "INFO", mask_phones: bool = True) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if mask_phones:
        handler.addFilter(PhoneMaskFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
