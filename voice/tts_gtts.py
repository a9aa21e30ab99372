"""gTTS backend (Google Translate's voice): online only; any failure falls back to offline speech."""

from __future__ import annotations

import io
import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from voice import codecs
from voice.tts import Audio, Synthesizer, normalize_level, trim

log = logging.getLogger(__name__)


class GttsSynthesizer(Synthesizer):
    name = "gtts"
    offline = False

    def __init__(self, fallback: Synthesizer, timeout: float = 5.0, lang: str = "zh") -> None:
        self.fallback = fallback
        self.timeout = timeout
        self.lang = lang
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gtts")

    def _fetch(self, text: str) -> bytes:
        from gtts import gTTS

        buf = io.BytesIO()
        gTTS(text=text, lang=self.lang, slow=True).write_to_fp(buf)
        return buf.getvalue()

    def synthesize(self, text: str) -> Audio:
        if not text.strip():
            return Audio(b"")
        try:
            mp3 = self._pool.submit(self._fetch, text).result(timeout=self.timeout)
            pcm = codecs.decode(mp3, "mp3", max_seconds=600, max_bytes=1 << 28)
            return Audio(normalize_level(trim(pcm)))
        except (Exception, FutureTimeout) as err:  # no network, blocked, quota: speak offline instead
            log.warning("gtts unavailable (%s); using %s", type(err).__name__, self.fallback.name)
            return self.fallback.synthesize(text)
