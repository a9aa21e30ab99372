"""The danger model: emergency or not, learned with lines other writers wrote about danger, for the
wordings the risk lexicon does not hold. It raises an alert only when the message is told as happening
now; a story, a joke or a question stays what it was."""

from __future__ import annotations

import pytest

from nlu.parser import DANGER_ALERT_P, LIVE_VETO_P


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
        # answers to 「在哪里？」: a place is nobody's danger (nlu/lexicon/answers.yaml; the last two are
        # not among its lines)
        "就在我家门口，3栋2单元502",
        "就在小区门口，5栋1单元",
        "就在我屋门口，4栋3单元201",
        "就在幼儿园后门那里，7栋旁边",
    ],
)
def test_the_danger_model_does_not_alert_on_stories_or_requests(parser, said: str) -> None:  # type: ignore[no-untyped-def]
    assert parser.parse(said).risk != "emergency"


def test_the_bundle_holds_danger_and_live_models_fitted_on_the_tuning_sets_only(parser) -> None:  # type: ignore[no-untyped-def]
    from nlu.bundle import DANGER_TRAINING

    names = {p.name for p in DANGER_TRAINING}
    assert parser.bundle.danger_model is not None and parser.bundle.live_model is not None
    # the final half and the two writers kept for measuring are never learned from
    assert not names & {"safety_final.yml", *(f"safety_check{n}.yml" for n in (9, 10, 11, 12))}


@pytest.mark.parametrize(
    "said",
    [
        "社区能不能搞个讲座，讲下老人中风了家属要做啥子",
        "我孙子说要杀了他哥，因为他哥抢他玩具",
        "楼下麻将馆天天吵，吵得我想跳楼",
    ],
)
def test_danger_words_used_as_safe_messages_use_them_ask_instead_of_alerting(parser, said: str) -> None:  # type: ignore[no-untyped-def]
    """The live model: other writers use these words this way when nobody is in danger."""
    got = parser.parse(said)
    assert got.risk == "suspected", got
    unlike = [c for c in got.risk_cues if c.startswith("unlike:")]
    assert unlike and float(unlike[0].split(":")[1]) < LIVE_VETO_P, got.risk_cues


@pytest.mark.parametrize(
    "said",
    [
        "我外婆中风了",
        "有人打我",
        "救命",
        "着火了",
        "老人晕倒了",
        "煤气泄漏了",
        "我妈摔倒了起不来",
        "我爸喘不上气了",
    ],
)
def test_a_plain_emergency_keeps_its_alert(parser, said: str) -> None:  # type: ignore[no-untyped-def]
    got = parser.parse(said)
    assert got.risk == "emergency", got
    assert not any(c.startswith("unlike:") for c in got.risk_cues)
