"""Spoken requests (natural voice, committed fixtures) recognized and classified end to end."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.voice.conftest import FIXTURES, cer, fixture_pcm
from voice import codecs
from voice.asr import Transcriber, Transcript
from voice.service import VoiceService

pytestmark = pytest.mark.slow


def test_spoken_requests_file_the_right_item(
    whisper: Transcriber, voice_parser: Any, requests_spec: list[dict[str, Any]], capsys
) -> None:  # type: ignore[no-untyped-def]
    right, lines, cers = 0, [], []
    for req in requests_spec:
        result = whisper.transcribe(fixture_pcm(req["file"]))
        text = result.text if isinstance(result, Transcript) else ""
        parse = voice_parser.parse(text)
        ok = parse.intent == req["intent"] and parse.item == req["item"]
        right += ok
        cers.append(cer(req["text"], text))
        lines.append(
            f"{'ok ' if ok else 'BAD'} {req['file']:26s} CER {cers[-1]:5.1%} {text} -> {parse.intent}/{parse.item}"
        )
    accuracy = right / len(requests_spec)
    with capsys.disabled():
        print("\n" + "\n".join(lines))
        print(
            f"spoken requests: {right}/{len(requests_spec)} right ({accuracy:.0%}), "
            f"mean CER {sum(cers) / len(cers):.1%}"
        )
    assert accuracy >= 0.85


def test_wechat_voice_note_through_the_service(whisper: Transcriber, assembler, voice_parser) -> None:  # type: ignore[no-untyped-def]
    """A WeChat AMR voice note: AMR bytes → service → text → the right item."""
    amr = codecs.encode(fixture_pcm("req07_drain.ogg"), "amr")
    service = VoiceService(whisper, assembler)
    result = asyncio.run(service.transcribe(amr, "amr"))
    assert isinstance(result, Transcript)
    assert voice_parser.parse(result.text).item == "drain_blocked"


def test_browser_and_telegram_notes(whisper: Transcriber, assembler, voice_parser) -> None:  # type: ignore[no-untyped-def]
    service = VoiceService(whisper, assembler)
    ogg = (FIXTURES / "req09_parking.ogg").read_bytes()
    result = asyncio.run(service.transcribe(ogg, "audio/ogg"))
    assert isinstance(result, Transcript) and voice_parser.parse(result.text).item == "parking"
