"""voice.capacity: the queue arithmetic behind the doctor's hotline check, and a real phone decode of
the sample request timed on this machine."""

from __future__ import annotations

from voice.asr import Transcriber, Transcript
from voice.capacity import callers_within, decode_seconds, reply_after, sample_note, sample_request
from voice.prompts import PromptLibrary


def test_callers_who_stop_together_are_heard_two_at_a_time() -> None:
    # Decode times measured on two VMs of this project (0.37 s; 0.69 s with AVX2 only), 600 ms pause.
    assert callers_within(2.5, 0.6, 0.37, workers=2) == 10
    assert callers_within(2.5, 0.6, 0.69, workers=2) == 4
    assert callers_within(2.5, 0.6, 0.69, workers=1) == 2
    assert callers_within(0.5, 0.6, 0.37, workers=2) == 0  # the pause alone is longer than the target
    assert reply_after(10, 0.6, 0.37, workers=2) == 0.6 + 5 * 0.37
    assert reply_after(3, 0.6, 0.5, workers=2) == 0.6 + 2 * 0.5


def test_the_sample_is_a_phone_request_the_model_hears(library: PromptLibrary, whisper: Transcriber) -> None:
    pcm = sample_request(library)
    assert 2.5 < len(pcm) / 32000 < 7  # about as long as a spoken request
    heard = whisper.transcribe(pcm)
    assert isinstance(heard, Transcript) and len(heard.text) >= 5
    seconds = decode_seconds(whisper, pcm, narrowband=True, hurried=True, repeats=1)
    assert 0 < seconds < 30


def test_the_note_sample_is_the_same_prompt_at_16_khz(library: PromptLibrary) -> None:
    note, call = sample_note(library), sample_request(library)
    assert abs(len(note) - len(call)) <= 4 and note != call  # resampled through the line's µ-law
