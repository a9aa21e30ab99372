"""Relative dates and times (明天下午, 下个星期三, 3天前), as offsets: no clock is read."""

from __future__ import annotations

import re

from nlu.types import TimeExpr

_NUM = {
    "一": 1,
    "两": 2,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "几": 3,
}
DAYS = {"大后天": 3, "后天": 2, "明天": 1, "明早": 1, "明晚": 1, "今天": 0, "今早": 0, "今晚": 0, "当天": 0,
        "大前天": -3, "前天": -2, "昨天": -1, "昨晚": -1, "昨夜": -1}  # fmt: skip
PARTS = {"早上": "morning", "上午": "morning", "早晨": "morning", "清早": "morning", "一早": "morning", "早": "morning",
         "中午": "noon", "下午": "afternoon", "傍晚": "evening", "晚上": "evening", "晚": "evening", "天黑": "evening",
         "半夜": "night", "夜里": "night", "深夜": "night", "凌晨": "night", "夜": "night"}  # fmt: skip
WEEKS = {"下下周": 2, "下下个星期": 2, "下个星期": 1, "下星期": 1, "下周": 1, "这个星期": 0, "这星期": 0, "这周": 0,
         "本周": 0, "上个星期": -1, "上星期": -1, "上周": -1, "上上周": -2, "上上个星期": -2}  # fmt: skip
WEEKDAYS = {
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "日": 7,
    "天": 7,
    **{str(i): i for i in range(1, 8)},
}

_alt = lambda words: "|".join(sorted(words, key=len, reverse=True))  # noqa: E731
_WEEK = re.compile(f"({_alt(WEEKS)})")
_WEEKDAY = re.compile(r"(?:星期|周|礼拜)([一二三四五六日天1-7])")
_DAY = re.compile(f"({_alt(DAYS)})")
_PART = re.compile(f"({_alt(k for k in PARTS if len(k) > 1)})")
_AGO = re.compile(r"([0-9]+|[一两二三四五六七八九十几])\s*天(前|以前|之前|后|以后|之后)")
_AFTER = re.compile(r"过\s*([0-9]+|[一两二三四五六七八九十几])\s*天")


def _count(token: str) -> int:
    return int(token) if token.isdigit() else _NUM.get(token, 1)


def extract_time(text: str) -> TimeExpr | None:
    """The first relative time said in text, or None."""
    spans: list[tuple[int, int]] = []
    day = week = weekday = None
    part = None
    if m := _DAY.search(text):
        day = DAYS[m.group(1)]
        spans.append(m.span())
        part = next((PARTS[k] for k in ("早", "晚", "夜") if m.group(1).endswith(k)), None)
    elif m := _AGO.search(text):
        day = _count(m.group(1)) * (-1 if "前" in m.group(2) else 1)
        spans.append(m.span())
    elif m := _AFTER.search(text):
        day = _count(m.group(1))
        spans.append(m.span())
    if m := _WEEK.search(text):
        week = WEEKS[m.group(1)]
        spans.append(m.span())
    if m := _WEEKDAY.search(text):
        weekday = WEEKDAYS[m.group(1)]
        week = 0 if week is None else week
        spans.append(m.span())
    if m := _PART.search(text):
        part = PARTS[m.group(1)]
        spans.append(m.span())
    if not spans:
        return None
    start, end = min(s for s, _ in spans), max(e for _, e in spans)
    return TimeExpr(text[start:end], day_offset=day, part_of_day=part, week_offset=week, weekday=weekday)
