"""The voice layer's small error tree: every failure names the reply key that explains it."""

from __future__ import annotations


class VoiceError(Exception):
    """Base of all voice errors; `reply_key` is the string-catalog key to answer with."""

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


class ModelMissing(VoiceError):
    """A speech model directory is absent or incomplete (run `make install` / `make models`)."""

    reply_key = "error.internal"
