"""The small error tree. Each error maps to one reply key in one place (bot.engine)."""

from __future__ import annotations


class LianhuError(Exception):
    reply_key = "error.internal"


class ChannelError(LianhuError):
    """A platform (WeChat, Telegram, SIP) misbehaved or sent something we cannot use."""


class InputError(LianhuError):
    """The user's input cannot be used (bad audio, too long, empty)."""

    reply_key = "help.not_understood"

    def __init__(self, message: str = "", reply_key: str | None = None) -> None:
        super().__init__(message)
        if reply_key:
            self.reply_key = reply_key


class NotFoundError(LianhuError):
    reply_key = "status.not_found"


class PermissionDenied(LianhuError):
    reply_key = "error.permission"


class SignatureError(ChannelError):
    """A webhook's signature does not match: answer 403 and process nothing."""
