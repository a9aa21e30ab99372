"""The one error tree. Each error names the reply key that explains it to the user; the engine turns
a raised error into that reply in one place (bot.engine)."""

from __future__ import annotations


class LianhuError(Exception):
    reply_key = "error.internal"


class ConfigError(LianhuError, ValueError):
    """The configuration file, a catalog or an override is invalid."""


class CatalogError(ConfigError):
    """The demand catalog file is malformed."""


class ChannelError(LianhuError):
    """A platform (WeChat, Telegram, SIP) misbehaved or sent something we cannot use."""


class NotFoundError(LianhuError):
    reply_key = "status.not_found"


class PermissionDenied(LianhuError):
    reply_key = "error.permission"


class VoiceError(LianhuError):
    """Speech could not be heard or produced."""

    reply_key = "error.audio_bad"


class AudioError(VoiceError):
    """Audio we were given cannot be used."""


class EmptyAudio(AudioError):
    reply_key = "help.empty"


class CorruptAudio(AudioError):
    """Undecodable bytes or an unsupported format."""


class AudioTooLong(AudioError):
    reply_key = "error.audio_too_long"


class AudioTooLarge(AudioTooLong):
    """More bytes than the configured limit (treated like too long for the resident)."""


class EncodeError(VoiceError):
    """We could not produce the requested output format."""

    reply_key = "error.internal"


class SynthesisError(VoiceError):
    """A text-to-speech backend failed."""

    reply_key = "error.internal"


class ModelMissing(VoiceError):
    """A speech model directory is absent or incomplete (run `make install` / `make models`)."""

    reply_key = "error.internal"
