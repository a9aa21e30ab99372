"""The danger model: emergency or not, learned with lines other writers wrote about danger, for the
wordings the risk lexicon does not hold. It raises an alert only when the message is told as happening
now; a story, a joke or a question stays what it was."""

from __future__ import annotations

import pytest

from nlu.parser import DANGER_ALERT_P


@pytest.mark.parametrize(
    "said",
    [
        "楼下那个女的被她男人拖进车里了，一直在拍车窗",  # no cue word: 拖进车里, 拍车窗
        "我奶奶说胸口像有块石头压着，脸白得吓人",
        "隔壁屋头有股焦臭，门缝里在冒黑气",
    ],
)
def test_danger_said_in_words_no_lexicon_holds_is_alerted(parser, said: str) -> None:  # type: ignore[no-untyped-def]
    got = parser.parse(said)
    assert got.risk == "emergency", got
    assert any(c.startswith("danger:") for c in got.risk_cues), got.risk_cues
    assert float(got.risk_cues[0].split(":")[1]) >= DANGER_ALERT_P


@pytest.mark.parametrize(
    "said",
    [
        "电视里演的那个人被拖进车里了，一直在拍车窗",  # a story
        "我想问一下我妈的高龄补贴什么时候到账",
        "楼道的灯坏了好几天了",
    ],
)
def test_the_danger_model_does_not_alert_on_stories_or_requests(parser, said: str) -> None:  # type: ignore[no-untyped-def]
    assert parser.parse(said).risk != "emergency"


def test_the_bundle_holds_a_danger_model_fitted_on_the_tuning_sets_only(parser) -> None:  # type: ignore[no-untyped-def]
    from nlu.bundle import DANGER_TRAINING

    names = {p.name for p in DANGER_TRAINING}
    assert parser.bundle.danger_model is not None
    assert "safety_final.yml" not in names and not any("check5" in n or "check6" in n for n in names)
