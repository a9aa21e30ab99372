"""Notices and consultations in words: 「通知：…」, 「加装电梯方案：1 同意 2 不同意，周五 18 点截止」,
「通知 3 情况」, 「投票 3 改成 2」, 「不要再打了」. Pure parsing; the handlers resolve scope and time."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nlu.normalize import to_simplified

_SCOPE = r"(?P<scope>[^：:，,。]{0,12}?)"
_NOTICE = re.compile(rf"^\s*(?:发)?通知\s*{_SCOPE}\s*[：:]\s*(?P<text>\S.*?)\s*$", re.S)
_CONSULT = re.compile(rf"^\s*(?:议事|投票|表决|征求意见)\s*{_SCOPE}\s*[：:]\s*(?P<text>\S.*?)\s*$", re.S)
# A question with numbered options after a colon (the sender need not say 议事).
_OPTIONS_AFTER_COLON = re.compile(r"^[^：:]{2,60}[：:]\s*1\s*[^\d\s，,。]+.*?2\s*[^\d\s，,。]+", re.S)
_OPTION = re.compile(r"(?<![\d点:：])([1-9])\s*(?:[.、．)）]\s*)?([^\d\s，,。；;、]{1,12})")
_FIGURES = re.compile(
    r"^\s*(?:通知|议事|投票|表决)\s*(?P<no>\d{1,8})\s*(?:的)?(?:情况|结果|回执|统计)\s*[？?。]?\s*$"
)
_VOTE = re.compile(
    r"^\s*(?:投票|议事|表决)\s*(?P<no>\d{1,8})\s*(?:号)?\s*[，,]?\s*(?:选|投|改成|改为|改选|改)?\s*(?P<choice>[1-9])\s*$"
)
_STOP_CALLS = re.compile(
    r"^\s*(?:请)?(?:不要|别|莫|不用)(?:再)?(?:给我)?打(?:电话)?(?:来)?了?(?:吧)?[。!！]?\s*$"
    r"|^\s*(?:以后)?(?:不要|别|莫|不用)(?:再)?(?:给我)?打电话(?:通知)?了?[。!！]?\s*$"
)
# What a recognizer adds around a spoken 「不要再打了」: punctuation, spaces, a 喂 or 以后 in front.
_SPOKEN_NOISE = re.compile(r"[\s,.!?~，。！？、…]+")
_SPOKEN_LEAD = re.compile(r"^(?:喂+|嗯+|哎+|诶|那个|你们|以后|就)+")
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_DAY = {"今天": 0, "明天": 1, "后天": 2, "大后天": 3}
_DEADLINE = re.compile(
    r"(?:(?P<day>大后天|后天|明天|今天)|(?P<next>下)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天])"
    r"|(?:(?P<month>\d{1,2})\s*月\s*)?(?P<date>\d{1,2})\s*[日号])?\s*"
    r"(?P<part>上午|中午|下午|晚上)?\s*(?P<hour>\d{1,2})\s*(?:[点时:：])\s*(?P<minute>半|\d{1,2}\s*分?)?\s*"
    r"(?:前)?\s*(?:截止|结束|为止)"
)


@dataclass(frozen=True)
class Deadline:
    """A closing time as said: a day (offset, weekday or date) and an hour; resolved against the clock."""

    hour: int
    minute: int = 0
    day_offset: int | None = None
    weekday: int | None = None  # 0 = Monday
    next_week: bool = False
    month: int | None = None
    date: int | None = None


@dataclass(frozen=True)
class NoticeDraft:
    kind: str  # notice | consult
    text: str
    scope: str = ""  # the scope as said ("3 栋", "第1网格", "全社区"), "" for the sender's own
    options: tuple[str, ...] = ()
    deadline: Deadline | None = None
    loose: bool = field(default=False, compare=False)  # recognized by its shape, not a keyword


def parse_draft(text: str) -> NoticeDraft | None:
    """「通知：…」, 「议事：…」, or a question with numbered options; None for ordinary speech."""
    text = (text or "").strip()
    m = _NOTICE.match(text)
    if m:
        return NoticeDraft("notice", m.group("text"), m.group("scope").strip())
    m = _CONSULT.match(text)
    loose = False
    if not m and _OPTIONS_AFTER_COLON.match(text):
        m, loose = re.match(r"^\s*(?P<scope>)(?P<text>.+?)\s*$", text, re.S), True
    if not m:
        return None
    body = m.group("text")
    options = options_of(body)
    if len(options) < 2:
        return None if loose else NoticeDraft("consult", body, m.group("scope").strip())
    return NoticeDraft("consult", body, m.group("scope").strip(), options, deadline_of(body), loose)


def options_of(text: str) -> tuple[str, ...]:
    """「1 同意 2 不同意 3 弃权」 → (同意, 不同意, 弃权): numbered 1, 2, 3 … in order."""
    head, _, rest = text.partition("：") if "：" in text else text.partition(":")
    found: list[str] = []
    for digit, label in _OPTION.findall(rest or head):
        if int(digit) != len(found) + 1:
            break
        found.append(label)
    return tuple(found)


def deadline_of(text: str) -> Deadline | None:
    m = _DEADLINE.search(text)
    if not m:
        return None
    hour = int(m.group("hour"))
    if m.group("part") in ("下午", "晚上") and hour < 12:
        hour += 12
    raw_min = (m.group("minute") or "").replace("分", "").strip()
    minute = 30 if raw_min == "半" else int(raw_min or 0)
    if hour > 23 or minute > 59:
        return None
    return Deadline(
        hour,
        minute,
        day_offset=_DAY.get(m.group("day") or ""),
        weekday=_WEEKDAY.get(m.group("wd") or ""),
        next_week=bool(m.group("next")),
        month=int(m.group("month")) if m.group("month") else None,
        date=int(m.group("date")) if m.group("date") else None,
    )


def parse_figures(text: str) -> str | None:
    """「通知 3 情况」 → "3"."""
    m = _FIGURES.match(text or "")
    return m.group("no") if m else None


def parse_vote(text: str) -> tuple[str, str] | None:
    """「投票 3 改成 2」 → ("3", "2")."""
    m = _VOTE.match(text or "")
    return (m.group("no"), m.group("choice")) if m else None


def stop_calls(text: str) -> bool:
    """「不要再打了」 「别打电话了」: no more notice calls to this resident."""
    return bool(_STOP_CALLS.match(text or ""))


def stop_calls_spoken(text: str) -> bool:
    """「不要再打了」 as a recognizer writes it on a call: traditional characters, commas, a 喂 first."""
    plain = _SPOKEN_LEAD.sub("", _SPOKEN_NOISE.sub("", to_simplified(text or "")))
    return bool(plain) and stop_calls(plain)
