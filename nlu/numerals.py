"""Chinese numerals to ASCII digits, only where they are numbers (addresses, codes, times).

Spoken forms count: 幺 (1), 两 (2), 洞 (0, radio style). Words like 一直, 一下, 万一, 幺儿, 有个洞 stay.
"""

from __future__ import annotations

import re

DIGITS = {
    "零": 0, "〇": 0, "○": 0, "洞": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
UNITS = {"十": 10, "百": 100, "千": 1000}
_NUM_CHARS = "".join(DIGITS) + "".join(UNITS)
# Markers after which even a single numeral is a number: addresses, floors, clock and calendar words.
MARKERS = (
    "号楼",
    "单元",
    "栋",
    "幢",
    "座",
    "号",
    "楼",
    "层",
    "室",
    "户",
    "组",
    "点钟",
    "月",
    "岁",
    "块钱",
    "块",
)
_RUN = re.compile(f"[{_NUM_CHARS}0-9]+")
# Numeral runs that are words, never numbers.
_WORDS = ("一一", "三三两两", "一五一十", "十一五")


def _positional(run: str) -> int | None:
    """Value of a run using 十/百/千 (五百零二 -> 502, 十二 -> 12); None when malformed."""
    total, current = 0, None
    for ch in run:
        if ch in UNITS:
            unit = UNITS[ch]
            total += (1 if current is None else current) * unit
            current = None
        elif ch in DIGITS:
            if current is not None and DIGITS[ch] != 0:
                return None  # two digits in a row inside a positional number
            current = DIGITS[ch] if DIGITS[ch] != 0 else None
        else:
            return None
    return total + (current or 0)


def run_to_digits(run: str) -> str | None:
    """Convert one run of numeral characters; None when it should stay as written."""
    if any(ch in UNITS for ch in run):
        if run[0] in "百千":
            return None
        value = _positional(run)
        return None if value is None else str(value)
    return "".join(str(DIGITS[ch]) if ch in DIGITS else ch for ch in run)


def _is_number(text: str, start: int, end: int) -> bool:
    """Whether the numeral run text[start:end] stands for a number in its context."""
    run = text[start:end]
    if run in _WORDS or any(w in text[max(0, start - 2) : end + 2] for w in ("万一", "一一", "统一", "唯一")):
        return False
    after = text[end : end + 3]
    if after.startswith(MARKERS):
        return True  # 一号, 一楼, 两单元, 三点钟
    digits_only = all(ch in DIGITS or ch.isdigit() for ch in run)
    chinese = [ch for ch in run if not ch.isdigit()]
    if digits_only:
        # A bare digit sequence of 2+ characters (五零二, 幺三八); lone 洞/两/幺/一 stay.
        return len(run) >= 2 and not set(chinese) <= {"两"} and run not in ("一两", "两三")
    return len(run) >= 2 and run not in ("十分",)


def to_digits(text: str) -> str:
    """Replace numeral runs that are numbers by ASCII digits."""
    out: list[str] = []
    pos = 0
    for match in _RUN.finditer(text):
        start, end = match.span()
        run = match.group()
        if run.isascii() or not _is_number(text, start, end):
            continue
        value = run_to_digits(run)
        if value is None:
            continue
        out.append(text[pos:start])
        out.append(value)
        pos = end
    out.append(text[pos:])
    return "".join(out)
