"""Vosk (Kaldi) backend: small offline models; the catalog biases recognition through a grammar.

Free decoding runs first. When the caller's words are uncertain, a second pass constrained to the
catalog phrases (plus "[unk]") is tried, and kept only if it found catalog words confidently;
per-call hints (expected answers such as 对/不对) use the constrained pass directly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from voice.asr import NotRecognized, Recognition, Segment, Transcriber, Transcript, is_filler
from voice.vad import speech_span

GRAMMAR_MIN_CONF = 0.8
FREE_MIN_CONF = 0.7


class VoskTranscriber(Transcriber):
    name = "vosk"
    offline = True

    def __init__(self, model_dir: Path, vocabulary: tuple[str, ...] = ()) -> None:
        import vosk

        vosk.SetLogLevel(-1)
        self._vosk = vosk
        self.model = vosk.Model(str(model_dir))
        # A grammar without "[unk]" forces every sound onto a phrase and would invent catalog words,
        # so biasing is only enabled for models whose lexicon has it (the Chinese small model does).
        self.can_bias = self.model.vosk_model_find_word("[unk]") != -1
        self.phrases = tuple(p for p in vocabulary if self._known(p)) if self.can_bias else ()

    def _known(self, phrase: str) -> bool:
        """Vosk grammars may only use words in the model's lexicon."""
        return (
            all(self.model.vosk_model_find_word(w) != -1 for w in phrase.split()) if phrase.strip() else False
        )

    def _run(self, pcm16k: bytes, phrases: Sequence[str] = ()) -> tuple[str, float, tuple[Segment, ...]]:
        # A fresh recognizer per call: a reused one carries time offsets and adaptation state over.
        grammar = [json.dumps([*phrases, "[unk]"], ensure_ascii=False)] if phrases else []
        rec = self._vosk.KaldiRecognizer(self.model, 16000, *grammar)
        rec.SetWords(True)
        words: list[dict[str, float | str]] = []
        step = 16000 * 2 // 2  # half a second per chunk
        for pos in range(0, len(pcm16k), step):
            if rec.AcceptWaveform(pcm16k[pos : pos + step]):
                words += json.loads(rec.Result()).get("result", [])
        words += json.loads(rec.FinalResult()).get("result", [])
        words = [w for w in words if w.get("word") != "[unk]"]
        if not words:
            return "", 0.0, ()
        sep = "" if all(_is_cjk(str(w["word"])) for w in words) else " "
        text = sep.join(str(w["word"]) for w in words)
        conf = sum(float(w.get("conf", 0.0)) for w in words) / len(words)
        segments = tuple(
            Segment(float(w["start"]), float(w["end"]), str(w["word"]), float(w.get("conf", 0.0)))
            for w in words
        )
        return text, conf, segments

    def transcribe(self, pcm16k: bytes, hints: Sequence[str] = ()) -> Recognition:
        span = speech_span(pcm16k)
        if span is None:
            return NotRecognized("silence")
        pcm = pcm16k[span[0] : span[1]]
        known_hints = [h for h in hints if self._known(h)] if self.can_bias else []
        if known_hints:
            text, conf, segments = self._run(pcm, known_hints)
            if text and conf >= GRAMMAR_MIN_CONF:
                return Transcript(text, round(conf, 3), segments)
        text, conf, segments = self._run(pcm)
        if (not text or conf < FREE_MIN_CONF) and self.phrases:
            g_text, g_conf, g_segments = self._run(pcm, self.phrases)
            if g_text and g_conf >= GRAMMAR_MIN_CONF:
                text, conf, segments = g_text, g_conf, g_segments
        if not text:
            return NotRecognized("no_text")
        if is_filler(text):
            return NotRecognized("filler")
        return Transcript(text, round(conf, 3), segments)


def _is_cjk(word: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in word)
