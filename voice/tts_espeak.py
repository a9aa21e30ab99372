"""espeak-ng backend: always offline, robotic but clear; slowed down for elderly listeners."""

from __future__ import annotations

import shutil
import subprocess

from core.errors import AudioError, SynthesisError
from voice import codecs
from voice.tts import Audio, Synthesizer, normalize_level, trim


class EspeakSynthesizer(Synthesizer):
    name = "espeak"
    offline = True

    def __init__(self, voice: str = "cmn", speed: int = 130, binary: str = "espeak-ng") -> None:
        self.voice = voice
        self.speed = speed
        self.binary = shutil.which(binary) or binary

    def synthesize(self, text: str) -> Audio:
        if not text.strip():
            return Audio(b"")
        cmd = [self.binary, "-v", self.voice, "-s", str(self.speed), "-g", "4", "--stdout", text]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=30, check=True)
            pcm = codecs.decode(done.stdout, "wav", max_seconds=600, max_bytes=1 << 30)
        except (OSError, subprocess.SubprocessError, AudioError) as err:
            # the error would carry the command line, and with it the words spoken: name its kind only
            raise SynthesisError(f"espeak-ng failed: {type(err).__name__}") from None
        return Audio(normalize_level(trim(pcm)))
