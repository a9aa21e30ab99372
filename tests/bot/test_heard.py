"""Reading a spoken report back word for word (report.confirm_heard): when the recognizer was unsure, and
when another likely reading of the same speech means something else (nlu.nbest `disputed`). The real
parser; the readings are what a channel hands the engine (tests/channels/test_voice_nbest.py shows a real
recognizer filling them)."""

from __future__ import annotations

HEARD = "我听到的是：楼道的灯坏了。"


def test_a_sure_single_reading_is_not_read_back(chat) -> None:  # type: ignore[no-untyped-def]
    reply = chat("demo:resident1").say("楼道的灯坏了", spoken=True, asr_confidence=0.9)
    assert "1" in reply and "我听到的是" not in reply, reply


def test_an_unsure_reading_is_read_back(chat) -> None:  # type: ignore[no-untyped-def]
    reply = chat("demo:resident1").say("楼道的灯坏了", spoken=True, asr_confidence=0.4)
    assert HEARD in reply, reply


def test_a_likely_reading_that_means_something_else_is_read_back(chat) -> None:  # type: ignore[no-untyped-def]
    resident = chat("demo:resident1")
    # the other reading would be a neighbours' quarrel: the same sure confidence, but the hearing is in doubt
    other = (("楼道里的等会来了", -0.4),)
    reply = resident.say("楼道的灯坏了", spoken=True, asr_confidence=0.9, asr_alternatives=other)
    assert HEARD in reply, reply
    assert "已登记" in resident.say("1")  # confirmed as read: filed


def test_an_unlikely_or_same_meaning_reading_is_no_doubt(chat) -> None:  # type: ignore[no-untyped-def]
    far = chat("demo:resident1").say(
        "楼道的灯坏了", spoken=True, asr_confidence=0.9, asr_alternatives=(("楼道里的等会来了", -1.6),)
    )
    assert HEARD not in far, far
    same = chat("demo:resident2").say(
        "楼道的灯坏了", spoken=True, asr_confidence=0.9, asr_alternatives=(("楼道的灯坏啦", -0.2),)
    )
    assert "我听到的是" not in same, same


def test_typed_text_is_never_read_back(chat) -> None:  # type: ignore[no-untyped-def]
    reply = chat("demo:resident1").say("楼道的灯坏了")
    assert "我听到的是" not in reply, reply
