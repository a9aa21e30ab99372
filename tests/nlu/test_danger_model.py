"""The danger model: emergency or not, learned with lines other writers wrote about danger, for the
wordings the risk lexicon does not hold. It raises an alert only when the message is told as happening
now; a story, a joke or a question stays what it was."""

from __future__ import annotations

import numpy as np
import pytest

from nlu.parser import DANGER_ALERT_P, LIVE_VETO_P


class Fixed:
    """A model that gives every message the same probability of danger, to test the rules around it."""

    def __init__(self, model, p: float) -> None:  # type: ignore[no-untyped-def]
        self.labels, self.p = model.labels, p

    def probabilities(self, bag, embedding):  # type: ignore[no-untyped-def]
        return np.array([self.p if label == "emergency" else 1 - self.p for label in self.labels])


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
    # the final half and the writers kept for measuring are never learned from
    assert not names & {"safety_final.yml", *(f"safety_check{n}.yml" for n in range(41, 49))}


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


@pytest.mark.parametrize(
    "said", ["上午厨房水管爆了，总阀已经关了，等师傅来换", "我家卫生间水管爆了，关了总阀，麻烦找个师傅"]
)
def test_a_red_flag_alone_that_the_danger_model_finds_unlike_danger_is_asked_about(parser, said: str) -> None:  # type: ignore[no-untyped-def]
    """No risk cue, only an old red-flag word (水管爆), and nothing like the writers' emergencies: the
    safety question, not an alert (chosen leaving one writer out: one false alarm fewer, no alert lost)."""
    got = parser.parse(said)
    assert got.risk == "suspected" and any(c.startswith("unlike:") for c in got.risk_cues), got


def test_both_models_sure_are_not_silenced_by_the_lexicons_reading(parser, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A message the lexicon reads as a question (…的话，应该往哪里跑) whose words both models find certain
    danger is asked about, never dismissed: the models are given certainty here to test the rule."""
    from nlu.parser import DANGER_SURE_P, LIVE_SURE_P

    said = "有人一直跟着我的话，应该往哪里跑"
    assert parser.parse(said).risk is None  # the lexicon's reading: a question about what one would do

    bundle = parser.bundle
    monkeypatch.setattr(bundle, "danger_model", Fixed(bundle.danger_model, DANGER_SURE_P))
    monkeypatch.setattr(bundle, "live_model", Fixed(bundle.live_model, LIVE_SURE_P))
    got = parser.parse(said)
    assert got.risk == "suspected" and "live:0.90" in got.risk_cues, got


def test_a_space_where_the_recognizer_heard_a_pause_reads_as_a_comma(parser) -> None:  # type: ignore[no-untyped-def]
    """「我一个人在屋头 心头好怕」 (a voice note) was an alert where the typed 「…，心头好怕。」 was asked about."""
    from nlu.bundle import danger_bag

    featurizer = parser.bundle.featurizer
    spoken, typed = "我一个人在家里 心头好怕", "我一个人在家里,心头好怕."
    assert danger_bag(featurizer, spoken, spoken) == danger_bag(featurizer, typed, typed)
    assert parser.parse("我一个人在屋头 心头好怕").risk == parser.parse("我一个人在屋头，心头好怕。").risk


def test_the_danger_model_alone_alerts_only_when_sure(parser, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With no live sign from the lexicon, p 0.7 asks and p 0.85 alerts; beside a weak sign (好怕) p 0.7
    alerts. The models are given these probabilities here to test the rule."""
    from nlu.parser import DANGER_ALERT_P, DANGER_ALERT_UNCUED_P

    assert DANGER_ALERT_P < 0.7 < DANGER_ALERT_UNCUED_P < 0.85

    bundle = parser.bundle
    danger, live = bundle.danger_model, bundle.live_model
    monkeypatch.setattr(bundle, "live_model", Fixed(live, 0.9))
    uncued, cued = "外头有人一直在拍门", "我一个人在屋头，好怕"
    assert all(c.startswith("danger:") for c in parser.parse(uncued).risk_cues)  # no live sign
    monkeypatch.setattr(bundle, "danger_model", Fixed(danger, 0.7))
    assert parser.parse(uncued).risk == "suspected"
    assert parser.parse(cued).risk == "emergency"
    monkeypatch.setattr(bundle, "danger_model", Fixed(danger, 0.85))
    assert parser.parse(uncued).risk == "emergency"


def test_a_plain_answer_the_danger_model_would_have_alerted_on_is_asked_about(parser, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Below the lone-alert bar a message read as a thanks or a yes is still asked about, not dropped: the
    bar turns an alert into the safety question, never into nothing."""
    said = "要得要得谢谢你们哈"
    assert parser.parse(said).intent in ("thanks", "confirm")
    monkeypatch.setattr(parser.bundle, "danger_model", Fixed(parser.bundle.danger_model, 0.7))
    assert parser.parse(said).risk == "suspected"
    monkeypatch.setattr(parser.bundle, "danger_model", Fixed(parser.bundle.danger_model, 0.4))
    assert parser.parse(said).risk is None  # a plain answer the model only half suspects is left alone
