"""The prompt library covers everything Lianhu says from the catalog; replies are assembled from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.render import SCREEN_ONLY, Part, Rendered, StringCatalog
from tests.voice.conftest import CATALOG, STRINGS
from voice import codecs
from voice.prompts import DIGIT_WORDS, INDEX, PROMPT_DIR, PromptLibrary, normalize, prompt_key, required_texts
from voice.speech import SpeechAssembler, _groups
from voice.vocabulary import catalog_names


def _status_words() -> list[str]:
    catalog = StringCatalog.load(STRINGS)
    return [catalog.text(k) for k in catalog.keys() if k.startswith(("status_word.", "tier."))]  # noqa: SIM118


def test_every_fixed_string_has_audio(library: PromptLibrary) -> None:
    """Fails when the string catalog gained or changed a sentence: run `make prompts`."""
    catalog = StringCatalog.load(STRINGS)
    missing = library.missing(catalog.fixed_texts())
    assert not missing, (
        f"{len(missing)} fixed strings have no prompt audio (run `make prompts`): {sorted(missing)[:10]}"
    )


def test_names_status_words_and_digits_have_audio(library: PromptLibrary) -> None:
    wanted = [*catalog_names(CATALOG), *_status_words(), *DIGIT_WORDS.values()]
    missing = library.missing(wanted)
    assert not missing, f"no prompt audio for {sorted(missing)} (run `make prompts`)"


def test_library_matches_what_make_prompts_wants(library: PromptLibrary) -> None:
    wanted = required_texts(StringCatalog.load(STRINGS).fixed_texts(), catalog_names(CATALOG))
    assert library.missing(wanted) == set()
    index = json.loads((PROMPT_DIR / INDEX).read_text(encoding="utf-8"))["prompts"]
    files = {p.stem for p in PROMPT_DIR.glob("*.ogg")}
    assert set(index) == files, "index.json and the audio files disagree"
    assert all(prompt_key(text) == key for key, text in index.items())


def test_prompt_audio_is_small_and_decodes(library: PromptLibrary) -> None:
    assert library.total_bytes() < 3 * 1024 * 1024
    pcm = library.get("水管漏水")
    assert pcm is not None and 0.5 < codecs.duration(pcm) < 3.0


def test_normalization_keys_ignore_spacing_and_edge_punctuation() -> None:
    assert normalize(" 小时内回复您。") == "小时内回复您"
    assert normalize("，对吗？") == "对吗？"
    assert normalize("，") == "" and normalize("（") == ""
    assert prompt_key("单号 ") == prompt_key("单号")


@pytest.mark.parametrize(
    "key",
    sorted(k for k in StringCatalog.load(STRINGS).keys() if k.split(".")[0] not in SCREEN_ONLY),  # noqa: SIM118
)
def test_every_sentence_is_spoken_without_live_synthesis(assembler: SpeechAssembler, key: str) -> None:
    """Each catalog sentence with typical digits, names and addresses is read from prompts only."""
    catalog = StringCatalog.load(STRINGS)
    params = {
        "ticket_no": "100023",
        "phone": "13800138000",
        "count": "3",
        "hours": "24",
        "code": "5821",
        "number": "2",
        "item": "水管漏水",
        "category": "设施与环境",
        "status": "正在处理",
        "tier": "网格员",
        "assignee": "联户长",
        "actor": "联户长",
        "address": "3栋2单元502",
        "unit": "3栋2单元",
    }
    rendered = catalog.render(key, params)
    speech = assembler.assemble(rendered)
    assert speech.seconds > 0.2 or not normalize(rendered.text)
    assert speech.live_texts == (), f"{key}: live synthesis for {speech.live_texts}"


def test_ticket_numbers_are_read_digit_by_digit(assembler: SpeechAssembler, library: PromptLibrary) -> None:
    one = library.get("一")
    assert one is not None
    speech = assembler.assemble(Rendered("111", (Part("digits", "111"),)))
    # three separate 一 prompts with short gaps, not one word
    assert speech.seconds >= 3 * codecs.duration(one)
    assert _groups(6) == [3, 3] and _groups(11) == [3, 4, 4] and _groups(4) == [4]


def test_two_digit_amounts_are_read_as_numbers(assembler: SpeechAssembler) -> None:
    digits = assembler.assemble(Rendered("502", (Part("digits", "502"),)))
    amount = assembler.assemble(Rendered("24", (Part("digits", "24"),)))
    assert amount.live_texts == () and digits.live_texts == ()


def test_free_text_uses_prompts_for_addresses_and_live_voice_otherwise(assembler: SpeechAssembler) -> None:
    address = assembler.assemble("3栋2单元502")
    assert address.live_texts == ()
    note = assembler.assemble("厨房水管爆了，王大爷家")
    assert note.live_texts == ("厨房水管爆了，王大爷家",)  # one voice for the whole note, no patchwork


def test_missing_prompt_falls_back_to_live_synthesis(tmp_path: Path) -> None:
    from voice.tts import load_synthesizer

    empty = SpeechAssembler(PromptLibrary(tmp_path), load_synthesizer("espeak"))
    speech = empty.assemble(Rendered("您好", (Part("fixed", "您好"),)))
    assert speech.seconds > 0.3 and speech.live_texts == ("您好",)


def test_make_prompts_is_incremental(tmp_path: Path) -> None:
    """Only new or changed texts are rendered; texts no longer needed lose their audio."""
    import wave

    import numpy as np

    from voice.prompt_build import build_prompts

    rendered: list[str] = []

    def fake_render(jobs):  # type: ignore[no-untyped-def]
        for job in jobs:
            rendered.append(str(job["text"]))
            tone = (np.sin(np.arange(24000) / 24000 * 2 * np.pi * 300) * 9000).astype("<i2")
            with wave.open(str(job["out"]), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(24000)
                out.writeframes(tone.tobytes())
        return {}

    first = build_prompts(tmp_path, ["您好。", "再见"], tmp_path / "venv", render=fake_render)
    assert sorted(first.rendered) == ["再见", "您好"] and rendered == ["再见", "您好"]
    rendered.clear()
    second = build_prompts(tmp_path, ["您好", "谢谢"], tmp_path / "venv", render=fake_render)
    assert rendered == ["谢谢"] and second.kept == 1 and second.removed == 1
    library = PromptLibrary(tmp_path)
    assert library.texts() == {"您好", "谢谢"} and len(list(tmp_path.glob("*.ogg"))) == 2
    assert library.get("谢谢") is not None and library.get("再见") is None
