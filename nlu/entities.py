"""Entities: address, ticket number, phone, time, who is affected, rating, menu digit, proxy report."""

from __future__ import annotations

import re
from collections.abc import Mapping

from nlu.timex import extract_time
from nlu.types import Address, Entities

_BUILDING = r"(?P<b>\d{1,3})\s*(?:号楼|栋|幢|座|号院)"
_UNIT = r"(?P<u>\d{1,2})\s*单元"
_ROOM = r"(?P<r>\d{3,4})(?!\d)\s*(?:室|号房|号|房间|房)?"
ADDRESS_PATTERNS = (
    re.compile(rf"{_BUILDING}\s*(?:{_UNIT})?\s*(?:{_ROOM})?"),
    re.compile(rf"{_UNIT}\s*(?:{_ROOM})?"),
    re.compile(r"(?<![\d-])(?P<b>\d{1,3})-(?P<u>\d{1,2})-(?P<r>\d{3,4})(?![\d-])"),
    re.compile(r"(?<!\d)(?P<r>\d{3,4})(?:室|号房|房间)"),
    re.compile(r"(?:住在?|家在|家住)\s*(?P<r>\d{3,4})(?!\d)"),
)
TICKET = re.compile(r"(?<![\d-])\d{6}(?![\d-])")
PHONES = (
    re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"),
    re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)"),
    re.compile(r"(?<![\d-])\d{7,8}(?![\d-])"),
)
_DIGIT_GAP = re.compile(r"(?<=\d)[\s-](?=\d)")
# Rating words, checked worst first so 不满意 is not read as 满意.
RATINGS = (
    (
        3,
        (
            "不满意",
            "差评",
            "太差",
            "很差",
            "不巴适",
            "不安逸",
            "一点都不好",
            "没解决",
            "没有解决",
            "太慢了",
            "不咋个样",
        ),
    ),
    (
        2,
        (
            "基本满意",
            "还算满意",
            "还可以",
            "还行",
            "一般",
            "马马虎虎",
            "凑合",
            "过得去",
            "将就",
            "还将就",
            "中评",
        ),
    ),
    (
        1,
        (
            "非常满意",
            "很满意",
            "满意",
            "巴适",
            "安逸",
            "点赞",
            "点个赞",
            "好评",
            "五星",
            "满分",
            "不错",
            "太好了",
            "很好",
            "挺好",
        ),
    ),
)
DIGIT_WORDS = {"零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4",
               "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}  # fmt: skip
_MENU_DIGIT = re.compile(r"^(?:选|按|第|选第)?([0-9零〇洞一幺二两三四五六七八九])(?:个|号|项|条)?$")
_PROXY = re.compile(
    r"(?:帮|替|代)\s*(?P<name>[\u4e00-\u9fff]{1,6}?)\s*(?:的)?\s*(?:报|反映|登记|申请|问|说|催|提|办|喊)"
)
_NOT_NAMES = {"我", "我们", "忙", "你", "你们", "他", "她", "大家", "人", "一下", "个忙", "我家", "我们家"}


def find_address(text: str) -> Address | None:
    """First household address in normalized text (3栋2单元502, 3-2-502, 502室)."""
    for pattern in ADDRESS_PATTERNS:
        for m in pattern.finditer(text):
            parts = {k: v for k, v in m.groupdict().items() if v}
            if parts:
                return Address(parts.get("b"), parts.get("u"), parts.get("r"), m.group().strip())
    return None


def find_ticket(text: str) -> str | None:
    m = TICKET.search(text)
    return m.group() if m else None


def find_phone(text: str) -> str | None:
    """Mobile (1[3-9] + 9 digits) or landline; 6-digit numbers are ticket numbers, not phones."""
    joined = _DIGIT_GAP.sub("", text)
    for pattern in PHONES:
        if m := pattern.search(joined):
            return m.group().replace("-", "")
    return None


def find_rating(surface: str) -> int | None:
    for value, words in RATINGS:
        if any(w in surface for w in words):
            return value
    return None


def find_digit(surface: str) -> str | None:
    """The whole message is one keypad/menu digit: 1, ２, 一, 幺, 选2."""
    core = re.sub(r"[\s,.!?~。，！？]", "", surface)
    m = _MENU_DIGIT.match(core)
    if not m:
        return None
    ch = m.group(1)
    return ch if ch.isdigit() else DIGIT_WORDS[ch]


def find_on_behalf(text: str, address: Address | None) -> str | None:
    """Who a proxy report is for: 帮 3 栋 502 王婆婆报 -> 王婆婆."""
    if address and address.text:
        text = text.replace(address.text, " ", 1)
    m = _PROXY.search(text)
    if not m:
        return None
    name = m.group("name").strip().removesuffix("的")
    return None if name in _NOT_NAMES or len(name) < 2 else name


class PersonFinder:
    """Who is affected, from surface words (Rasa synonyms: 老汉儿 -> father)."""

    def __init__(self, synonyms: Mapping[str, str]) -> None:
        self._words = sorted(synonyms, key=len, reverse=True)
        self._synonyms = dict(synonyms)
        self._pattern = re.compile("|".join(map(re.escape, self._words))) if self._words else None

    def find(self, text: str) -> tuple[str, str] | None:
        """(canonical, as said) for the first person word, 我 -> self when nobody else is named."""
        if self._pattern and (m := self._pattern.search(text)):
            return self._synonyms[m.group()], m.group()
        if re.search(r"我(?!们)", text):
            return "self", "我"
        return None


def extract(normalized: str, surface: str, persons: PersonFinder) -> Entities:
    """All entities of one message; surface is the text before dialect/numeral rewriting."""
    address = find_address(normalized)
    person = persons.find(surface) or persons.find(normalized)
    return Entities(
        address=address,
        ticket_no=find_ticket(normalized),
        phone=find_phone(normalized),
        time=extract_time(normalized),
        person=person[0] if person else None,
        person_text=person[1] if person else None,
        rating=find_rating(surface),
        digit=find_digit(surface),
        on_behalf=find_on_behalf(normalized, address),
    )
