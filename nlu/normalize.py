"""Text normalization: each rule is a small function; Normalizer chains them in a fixed order.

Order: traditional -> simplified, full-width -> half-width (and punctuation), fillers and stutters,
dialect lexicon (longest match), numerals -> digits, homophone repair against the domain vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import opencc

from nlu.homophone import HomophoneRepairer, SpokenRepairer
from nlu.numerals import to_digits
from nlu.resources import DialectEntry

MAX_CHARS = 300  # longer messages are understood from their first 300 characters

_T2S = opencc.OpenCC("t2s")
_PUNCT = str.maketrans({"。": ".", "、": ",", "「": '"', "」": '"', "『": '"', "』": '"', "“": '"', "”": '"',
                        "‘": "'", "’": "'", "～": "~", "—": "-", "…": "...", "·": " "})  # fmt: skip
_SPACES = re.compile(r"\s+")
_FILLER = r"(?:嗯+|啊+|呃+|额|哦+|喂+|诶|欸|唉|哎+|哈+(?![喽罗啰])|那个|这个|就是说|就是|然后|那么)"
_LEADING = re.compile(rf"^(?:{_FILLER}[\s,.!?~，。！？、]*)+(?=.)")
_INNER = re.compile(r"(?<=[,.!?~])\s*(?:嗯+|呃+|啊+|额|那个|这个)\s*(?=[,.!?~]|$)")
_TRIPLE = re.compile(r"([^\d])\1{2,}")
_DOUBLE_PRONOUN = re.compile(r"(我|你|他|她)\1(?!们)")
_REPEAT_WORD = re.compile(r"([^\d\W]{2,3})\1+")
_SEPARATOR_RUN = re.compile(r"([,.!?~，。！？])[,.!?~，。！？\s]*")


def traditional_chars() -> frozenset[str]:
    """Characters OpenCC's t2s table changes; text without any of them is already simplified."""
    table = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    chars = set()
    for line in table.read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        if key and values.split(" ")[0] != key:
            chars.add(key)
    return frozenset(chars)


def to_simplified(text: str, trad: frozenset[str] | None = None) -> str:
    """Traditional -> simplified Chinese (OpenCC); skipped when `trad` shows nothing to convert."""
    if trad is not None and trad.isdisjoint(text):
        return text
    return _T2S.convert(text)


def to_halfwidth(text: str) -> str:
    """Full-width ASCII forms and ideographic space -> ASCII; Chinese punctuation -> ASCII; lower case."""
    chars = []
    for ch in text:
        code = ord(ch)
        if code == 0x3000:
            ch = " "
        elif 0xFF01 <= code <= 0xFF5E:
            ch = chr(code - 0xFEE0)
        chars.append(ch)
    return "".join(chars).translate(_PUNCT).lower()


def strip_fillers(text: str) -> str:
    """Drop hesitation words and stutters (嗯啊, 喂喂, 那个那个, 我我我); keeps the text if nothing else is left."""
    cleaned = _TRIPLE.sub(r"\1", text)
    cleaned = _REPEAT_WORD.sub(
        lambda m: m.group(1) if m.group(1) in ("那个", "这个", "就是", "然后") else m.group(0), cleaned
    )
    cleaned = _DOUBLE_PRONOUN.sub(r"\1", cleaned)
    cleaned = _LEADING.sub("", cleaned)
    cleaned = _INNER.sub("", cleaned)
    cleaned = _SEPARATOR_RUN.sub(r"\1", _SPACES.sub(" ", cleaned)).strip(" ,，")
    if not re.sub(rf"{_FILLER}|[\W_]", "", cleaned):
        return _TRIPLE.sub(r"\1", text).strip(" ,.!?~")  # a bare 嗯 is an answer, not noise
    return cleaned


class Lexicon:
    """Longest-match replacement of dialect words by their Mandarin equivalents."""

    def __init__(self, entries: Iterable[DialectEntry]) -> None:
        self.replacements = {e.word: e.mandarin for e in entries if not e.keep and e.word != e.mandarin}
        self._by_first: dict[str, list[str]] = {}
        for word in sorted(self.replacements, key=len, reverse=True):
            self._by_first.setdefault(word[0], []).append(word)

    def apply(self, text: str) -> str:
        out: list[str] = []
        i = 0
        while i < len(text):
            for word in self._by_first.get(text[i], ()):
                if text.startswith(word, i):
                    out.append(self.replacements[word])
                    i += len(word)
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)


class Normalizer:
    """The whole chain; built once from the lexicon and the domain vocabulary."""

    def __init__(
        self, dialect: Iterable[DialectEntry], domain_words: Iterable[str], spoken_words: Iterable[str] = ()
    ) -> None:
        self.lexicon = Lexicon(dialect)
        self.domain_words = tuple(domain_words)
        self.homophones = HomophoneRepairer(self.domain_words)
        self.spoken_words = tuple(spoken_words)
        self._spoken: SpokenRepairer | None = None
        self.traditional = traditional_chars()

    def spoken_repairer(self) -> SpokenRepairer:
        """Built on first use (a few seconds: jieba's dictionary is read), then kept and pickled."""
        if self._spoken is None:
            self._spoken = SpokenRepairer((*self.domain_words, *self.spoken_words))
        return self._spoken

    def surface(self, text: str) -> str:
        """Script and width only: what entity rules that need the words as said look at."""
        return _SPACES.sub(" ", to_halfwidth(to_simplified(text[:MAX_CHARS], self.traditional))).strip()

    def from_surface(self, surface: str, spoken: bool = False) -> str:
        """The rest of the chain, for callers that already hold surface(text). `spoken`: the text came
        from speech recognition, and sound-alike slips are repaired more boldly first (SpokenRepairer)."""
        text = strip_fillers(surface)
        if spoken:
            text = self.spoken_repairer().repair(text)
        text = to_digits(self.lexicon.apply(text))
        return self.homophones.repair(text)

    def __call__(self, text: str, spoken: bool = False) -> str:
        return self.from_surface(self.surface(text), spoken)
