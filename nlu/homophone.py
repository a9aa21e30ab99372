"""Homophone repair: put back domain words a speech recogniser wrote with the wrong characters.

Sounds are compared toneless and with south-western merges (n/l, f/hu, z/zh, c/ch, s/sh, an/ang, en/eng,
in/ing), so 楼到 -> 楼道 and 滑粪池 -> 化粪池. A window is only rewritten when it shares at least one
character with the domain word and differs in few, which keeps ordinary words from being "repaired";
and a window that is itself a common word (水果, 糊口: jieba's dictionary, frequency >= COMMON_FREQ) is
left as written, since a recogniser or an input method wrote a real word there.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

COMMON_FREQ = 50
_HU_TO_F = {"u": "u", "ua": "a", "uai": "ai", "uan": "an", "uang": "an", "ui": "ei", "un": "en", "uo": "o"}


def fuzzy(syllable: str) -> str:
    """Canonical south-western form of a toneless pinyin syllable."""
    s = syllable.lower().replace("ü", "v")
    for retro, flat in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if s.startswith(retro):
            s = flat + s[2:]
    if s.startswith("n"):
        s = "l" + s[1:]
    if s.startswith("h") and s[1:] in _HU_TO_F:
        s = "f" + _HU_TO_F[s[1:]]
    for back, front in (("ang", "an"), ("eng", "en"), ("ing", "in")):
        if s.endswith(back):
            s = s[: -len(back)] + front
    return s


def _strip_tone(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable.replace("ü", "v"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def word_keys(word: str) -> tuple[str, ...]:
    """Fuzzy reading of a word, using pypinyin's phrase knowledge for heteronyms."""
    from pypinyin import Style, lazy_pinyin  # heavy import: build time only

    return tuple(fuzzy(s) for s in lazy_pinyin(word, style=Style.NORMAL))


def char_table(relevant: set[str]) -> dict[str, frozenset[str]]:
    """Fuzzy readings of every character that has a reading in `relevant` (the domain's sounds)."""
    from pypinyin.pinyin_dict import pinyin_dict

    table = {}
    for code, readings in pinyin_dict.items():
        keys = frozenset(fuzzy(_strip_tone(r)) for r in readings.split(",")) & relevant
        if keys:
            table[chr(code)] = keys
    return table


class HomophoneRepairer:
    """Rewrites sound-alike windows to the domain word they stand for. Built once, then pickled."""

    def __init__(self, words: Iterable[str]) -> None:
        # A window can only be repaired towards a word it shares a character with, so every domain word is
        # indexed under each of its characters (with that character's position).
        self._anchors: dict[str, list[tuple[str, int, tuple[str, ...]]]] = {}
        sounds: set[str] = set()
        for word in sorted(set(words), key=lambda w: (-len(w), w)):
            keys = word_keys(word)
            if len(word) >= 2 and len(keys) == len(word):
                sounds.update(keys)
                for j, ch in enumerate(word):
                    self._anchors.setdefault(ch, []).append((word, j, keys))
        self._chars = char_table(sounds)
        self._common: frozenset[str] = frozenset()
        self._bound: frozenset[str] = frozenset()
        common = _dictionary_words(COMMON_FREQ)
        self._common = frozenset(w for w in common if self._misread(w))
        # Two-character words a changed character could belong to with its neighbour outside the window:
        # 钱包手机 holds 钱包, so its 包手 is not 扶手 (包 has a rare reading fú).
        self._bound = frozenset(
            w for w in common if len(w) == 2 and (w[0] in self._chars or w[1] in self._chars)
        )

    def keys(self, ch: str) -> frozenset[str]:
        return self._chars.get(ch, frozenset())

    def _sounds_like(self, seg: str, word: str, keys: tuple[str, ...]) -> bool:
        """Same sound, and few characters differ (at most 1, or a third of a long word)."""
        budget = max(1, len(word) // 3)
        empty: frozenset[str] = frozenset()
        for c, w, k in zip(seg, word, keys, strict=True):
            if c != w:
                budget -= 1
                if budget < 0 or k not in self._chars.get(c, empty):
                    return False
        return True

    def _misread(self, word: str) -> bool:
        """True when the repair would rewrite the whole of `word` as another word."""
        found = self._starts(word).get(0, word)
        return found != word and len(found) == len(word)

    def _starts(self, text: str) -> dict[int, str]:
        """Longest domain word that text matches (exactly or by sound) at each start position."""
        best: dict[int, str] = {}
        seen: dict[
            tuple[str, str], bool
        ] = {}  # (window, word) -> verdict: a word is reached from each of its chars
        n = len(text)
        for p, ch in enumerate(text):
            for word, j, keys in self._anchors.get(ch, ()):
                start = p - j
                size = len(word)
                if start < 0 or start + size > n or len(best.get(start, "")) >= size:
                    continue
                seg = text[start : start + size]
                if seg == word:
                    best[start] = word
                    continue
                if seg in self._common:
                    continue
                verdict = seen.get((seg, word))
                if verdict is None:
                    verdict = seen[(seg, word)] = self._sounds_like(seg, word, keys)
                if verdict and not self._bound_outside(text, start, seg, word):
                    best[start] = word
        return best

    def _bound_outside(self, text: str, start: int, seg: str, word: str) -> bool:
        """A character the repair would change forms a common word with its neighbour outside the window."""
        end = start + len(seg)
        if seg[0] != word[0] and start > 0 and text[start - 1 : start + 1] in self._bound:
            return True
        return seg[-1] != word[-1] and end < len(text) and text[end - 1 : end + 1] in self._bound

    def repair(self, text: str) -> str:
        starts = self._starts(text)
        if not starts:
            return text
        out: list[str] = []
        i = 0
        while i < len(text):
            word = starts.get(i)
            out.append(word or text[i])
            i += len(word) if word else 1
        return "".join(out)


# --- Spoken input only -------------------------------------------------------------------------------
# A recognizer's slips are sound-alikes more often than a typist's: a window of three or more syllables
# may be rewritten without a character in common with the word when every syllable sounds the same
# (充电评测 -> 充电瓶车), or all but one that is near (one confusable initial or final: 宣净盖 -> 窨井盖).
# Two-syllable words keep the typed rule (a shared character): 就住 must not become 救助.
# Addresses: a building heard as 洞/动/东 before the unit (三洞二单元) is put back as 栋, a building
# number written as a sound-alike character (旗洞三单元: 七栋), 3-2单元 / 3.2单元 read as 3栋2单元, and
# a room number written with separators (单元5-0-2) joined.
# Digits are read as said (4.5 -> 四点半), so 4.5克堂 -> 四点半课堂. A window that is itself a word of
# jieba's dictionary is never rewritten (不住 is not 补助, 午夜 not 物业).

_INITIALS = ("b", "p", "m", "f", "d", "t", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c", "s", "y", "w")
_NEAR_INITIALS = (
    ("g", "k"), ("g", "h"), ("k", "h"), ("d", "t"), ("b", "p"), ("j", "q"), ("j", "x"), ("q", "x"),
    ("z", "c"), ("c", "s"), ("z", "s"), ("l", "r"), ("r", "y"), ("x", "s"), ("j", "z"), ("q", "c"),
)  # fmt: skip
_NEAR_FINALS = (
    ("v", "i"), ("i", "ei"), ("e", "ei"), ("o", "e"), ("uo", "o"), ("uo", "e"), ("ao", "ou"), ("u", "ou"),
    ("u", "o"), ("an", "uan"), ("an", "ian"), ("van", "vn"), ("en", "in"), ("en", "un"), ("in", "vn"),
    ("on", "en"), ("on", "un"), ("ie", "ve"), ("a", "ia"), ("a", "ua"), ("ai", "ei"), ("an", "en"),
    ("in", "ian"), ("uan", "un"), ("ui", "ei"), ("ao", "iao"), ("ou", "iu"),
)  # fmt: skip
_CN_DIGITS = "零一二三四五六七八九"
_NUMERAL = "0-9一二三四五六七八九十两幺"
_BUILDING = re.compile(f"([{_NUMERAL}])[洞动东冻懂董](?=[{_NUMERAL}]+(?:单元|号))")
_BUILDING_CHAR = re.compile(f"(?<![{_NUMERAL}])([\u4e00-\u9fff])(?=[洞动东冻懂董栋][{_NUMERAL}]+(?:单元|号))")
_BUILDING_UNIT = re.compile(r"(?<![\d.])(\d{1,2})[-.](\d{1,2})(?=单元)")
_ROOM = re.compile(r"(?<=单元)\d(?:[-.]\d){2,3}(?!\d)")
_NUMERAL_SOUNDS = {"yi": "一", "er": "二", "san": "三", "si": "四", "wu": "五", "liu": "六", "qi": "七",
                   "ba": "八", "jiu": "九"}  # fmt: skip


def _pairs(pairs: tuple[tuple[str, str], ...]) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for a, b in pairs:
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return {k: frozenset(v) for k, v in out.items()}


_NEAR_I = _pairs(_NEAR_INITIALS)
_NEAR_F = _pairs(_NEAR_FINALS)


def _split(key: str) -> tuple[str, str]:
    """(initial, final) of a fuzzy syllable; ü written as v after j/q/x/y (qu -> q + v)."""
    initial = next((i for i in _INITIALS if key.startswith(i) and len(key) > len(i)), "")
    final = key[len(initial) :]
    if initial in ("j", "q", "x", "y") and final.startswith("u"):
        final = "v" + final[1:]
    return initial, final


def canon(key: str) -> str:
    initial, final = _split(key)
    return initial + final


def near(key: str) -> frozenset[str]:
    """Syllables one confusable initial or final away from `key` (canonical forms)."""
    initial, final = _split(key)
    out = {i + final for i in _NEAR_I.get(initial, ())}
    out.update(initial + f for f in _NEAR_F.get(final, ()))
    out.discard(key)
    return frozenset(out)


def read_digits(text: str) -> list[tuple[str, str]]:
    """Units of `text` as (original, as read): a digit reads as its numeral, a point between digits as
    点, and .5 ending a number as 点半 (4.5 is how a recognizer writes 四点半); anything else as itself."""
    units: list[tuple[str, str]] = []
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        if ch.isascii() and ch.isdigit():
            units.append((ch, _CN_DIGITS[int(ch)]))
        elif ch == "." and 0 < i < n - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
            if text[i + 1] == "5" and (i + 2 == n or not text[i + 2].isdigit()):
                units.append((".5", "点半"))
                i += 2
                continue
            units.append((ch, "点"))
        else:
            units.append((ch, ch))
        i += 1
    return units


def _dictionary_words(min_freq: int = 3) -> list[str]:
    """jieba's dictionary (words of two or more characters seen at least `min_freq` times)."""
    import jieba

    path = Path(jieba.__file__).parent / "dict.txt"
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, rest = line.partition(" ")
        if len(word) >= 2 and int(rest.split(" ")[0] or 0) >= min_freq:
            out.append(word)
    return out


class SpokenRepairer:
    """Sound-alike repair for recognized speech (see above). Built once, then pickled."""

    def __init__(self, words: Iterable[str]) -> None:
        self._by_key: dict[str, list[tuple[str, int, tuple[str, ...]]]] = {}
        sounds: set[str] = {canon(fuzzy(k)) for k in _NUMERAL_SOUNDS}
        for word in sorted(set(words), key=lambda w: (-len(w), w)):
            keys = tuple(canon(k) for k in word_keys(word))
            if len(word) < 2 or len(keys) != len(word) or not all(k.isalpha() for k in keys):
                continue
            sounds.update(keys)
            if len(word) >= 3:
                for k in keys:
                    sounds.update(near(k))
            for j, k in enumerate(keys):
                self._by_key.setdefault(k, []).append((word, j, keys))
        self._chars: dict[str, frozenset[str]] = {}
        from pypinyin.pinyin_dict import pinyin_dict

        for code, readings in pinyin_dict.items():
            if not 0x4E00 <= code <= 0x9FFF:  # the common CJK block is what a recognizer writes
                continue
            keys_of = frozenset(canon(fuzzy(_strip_tone(r))) for r in readings.split(",")) & sounds
            if keys_of:
                self._chars[chr(code)] = keys_of
        # Real words that sound like (or near) a domain word are left alone.
        self._words: frozenset[str] = frozenset()
        self._words = frozenset(w for w in _dictionary_words() if self._is_sound_alike(w))

    def _is_sound_alike(self, text: str) -> bool:
        empty: frozenset[str] = frozenset()
        for k in self._chars.get(text[0], empty):
            for word, j, keys in self._by_key.get(k, ()):
                if j == 0 and len(word) == len(text) and word != text and self._sounds_like(text, word, keys):
                    return True
        return False

    def _sounds_like(self, seg: str, word: str, keys: tuple[str, ...]) -> bool:
        """Every syllable the same sound, but one near one in a word of three or more."""
        if seg in self._words:
            return False
        if len(word) < 3 and not any(c == w for c, w in zip(seg, word, strict=True)):
            return False
        slack = 1 if len(word) >= 3 else 0
        empty: frozenset[str] = frozenset()
        for c, w, k in zip(seg, word, keys, strict=True):
            if c == w:
                continue
            have = self._chars.get(c, empty)
            if k in have:
                continue
            if slack and have & near(k):
                slack -= 1
                continue
            return False
        return True

    def address(self, text: str) -> str:
        """The address repairs (see above); text without 单元 or 号 is returned as it is."""
        if "单元" not in text and "号" not in text:
            return text
        text = _BUILDING_CHAR.sub(self._numeral, text)
        text = _BUILDING.sub(r"\1栋", text)
        text = _BUILDING_UNIT.sub(r"\1栋\2", text)
        return _ROOM.sub(lambda m: re.sub(r"[-.]", "", m.group(0)), text)

    def _numeral(self, m: re.Match[str]) -> str:
        numerals = {canon(fuzzy(k)): n for k, n in _NUMERAL_SOUNDS.items()}
        heard = [numerals[k] for k in self._chars.get(m.group(1), ()) if k in numerals]
        return heard[0] if len(heard) == 1 else m.group(1)

    def repair(self, text: str) -> str:
        units = read_digits(self.address(text))
        said = [r for _, r in units]
        # reading position -> (unit index, is the first reading character of that unit)
        pos: list[tuple[int, bool]] = []
        for u, (_, r) in enumerate(units):
            pos.extend((u, j == 0) for j in range(len(r)))
        chars = "".join(said)
        n = len(chars)
        best: dict[int, tuple[int, str]] = {}  # start unit -> (end unit, word)
        seen: dict[tuple[str, str], bool] = {}
        empty: frozenset[str] = frozenset()
        for p, ch in enumerate(chars):
            for k in self._chars.get(ch, empty):
                for word, j, keys in self._by_key.get(k, ()):
                    start, end = p - j, p - j + len(word)
                    if start < 0 or end > n or not pos[start][1] or (end < n and not pos[end][1]):
                        continue
                    u0, u1 = pos[start][0], (pos[end][0] if end < n else len(units))
                    if len(best.get(u0, (0, ""))[1]) >= len(word):
                        continue
                    seg = chars[start:end]
                    verdict = seg == word or seen.get((seg, word))
                    if verdict is None:
                        verdict = seen[(seg, word)] = self._sounds_like(seg, word, keys)
                    if verdict:
                        best[u0] = (u1, word)
        if not best:
            return text
        out: list[str] = []
        u = 0
        while u < len(units):
            hit = best.get(u)
            if hit and "".join(r for _, r in units[u : hit[0]]) != hit[1]:
                out.append(hit[1])
                u = hit[0]
            elif hit:
                out.extend(o for o, _ in units[u : hit[0]])
                u = hit[0]
            else:
                out.append(units[u][0])
                u += 1
        return "".join(out)
