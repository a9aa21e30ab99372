"""The risk layer: is someone in danger now? Built for recall on phrasings nobody wrote down.

Cues are composed from parts (who, what is happening, how it is said) in nlu/lexicon/risk.yaml and
matched on the message as said and on its normalized form. A cue counts when it is live: no hedge or
past marker before it in its clause, no negation right before it. A message told as media, a joke or
something already over brings strong cues down to a safety question and drops weak ones.

    emergency   a strong live cue, or two weak ones of different kinds
    suspected   one weak cue, or a strong one that is hedged, past or told as over, violence or self-harm
                said as a habit (他老是打我), or any cue in a message
                asking what to do (老人噎住了应该怎么做 may be asked in the middle of it)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

EMERGENCY = "emergency"
SUSPECTED = "suspected"
EXPOSED = "exposed"  # people in the way of a hazard: counts only beside another cue
ALARM = "alarm"  # a bare cry for help (救命, 快来人)
HOW_TO = "how_to"  # asking what to do: maybe in the middle of the danger, so asked about, never dropped
# Where an unpunctuated message turns to something else (…开好没有啊等一下外面出事了): a hedge or past
# marker before such a turn belongs to the earlier topic.
_TURN = re.compile(r"[,.!?;，。！？；\s]|(?<=[啊呀嘛哦])|等一下|还有|另外|对了")
_UNSAID = (
    "不",
    "没",
    "莫",
    "还没",
    "是不是",
    "会不会",
    "能不能",
)  # right before a word: denied, or asked about
# 能不能 / 是不是 / 有没有 ask, they do not deny (能不能马上派个人来)
_A_NOT_A = re.compile(r"(.)[不没]\1$")
# a past marker followed by these runs up to now (昨天晚上出去散步到现在一直没回来)
_UNTIL_NOW = re.compile(r"到现在|现在都|现在还|至今|一直到|以后(?:我|他|她)?(?:就)?一直|之后(?:就)?一直")
# 特别 / 告别 / 区别 end in 别 and deny nothing (特别想跳下去)
# a new matter begins (…修好了谢谢。还有个事，…): how the earlier one was told does not frame the later
_SWITCH = re.compile(
    r"还有(?:个|一个|件|一件)(?:事|情况)|还有就是|另外|对了|顺便(?:说|问|讲)|(?:但是|可是|不过)现在"
)
_PLEA = ("不知道", "不晓得", "不知", "搞不清")  # 不知道该找谁: at a loss, not asking what one would do
_NOT_DENIAL = re.compile(r"(?:特|分|区|告|级|类|性|识|辨|差|个|离|道|派)别$")
_MACRO = re.compile(r"\{([A-Z]+)\}")


@dataclass(frozen=True)
class Cue:
    kind: str
    strength: str  # strong | weak
    text: str
    live: bool
    span: tuple[int, int, int] = (0, 0, 0)  # (which form, start, end): overlapping cues count once
    ongoing: bool = False  # not now but as a habit (他老是打我, 我经常想跳楼): still someone at risk

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.text}"


@dataclass(frozen=True)
class Risk:
    level: str | None  # emergency | suspected | None
    cues: tuple[Cue, ...] = ()
    framing: str = ""  # how the message is told: media, joke, question, resolved, chronic or how_to

    @property
    def historical(self) -> bool:
        """Cues were found, but none is live: told as past, hedged or denied."""
        return bool(self.cues) and not any(c.live for c in self.cues)

    @property
    def kind(self) -> str | None:
        """The kind of danger of the strongest live cue (or the first cue)."""
        ranked = sorted(self.cues, key=lambda c: (not c.live, c.strength != "strong"))
        return ranked[0].kind if ranked else None


@dataclass(frozen=True)
class RiskLexicon:
    patterns: tuple[tuple[str, str, re.Pattern[str]], ...]  # (kind, strength, pattern)
    hedges: tuple[str, ...]
    past: tuple[str, ...]
    media: tuple[str, ...]
    joke: tuple[str, ...]
    question: tuple[str, ...]
    resolved: tuple[str, ...]
    negations: tuple[str, ...]
    chronic: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    future: tuple[str, ...] = ()
    figurative: tuple[re.Pattern[str], ...] = ()
    how_to: tuple[str, ...] = ()
    how_to_patterns: tuple[re.Pattern[str], ...] = ()
    habitual: tuple[str, ...] = ()
    live_media: tuple[re.Pattern[str], ...] = ()
    media_activity: tuple[re.Pattern[str], ...] = ()
    question_patterns: tuple[re.Pattern[str], ...] = ()
    still: tuple[re.Pattern[str], ...] = ()
    not_hedges: tuple[str, ...] = ()
    ongoing_kinds: tuple[tuple[str, str], ...] = ()  # (kind, weakest strength that counts)

    @classmethod
    def load(cls, path: str | Path) -> RiskLexicon:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        macros = {k: str(v) for k, v in (raw.get("macros") or {}).items()}

        def expand(p: str) -> str:
            return _MACRO.sub(lambda m: macros[m.group(1)], p)

        patterns = []
        for kind, levels in raw["kinds"].items():
            for strength in ("strong", "weak"):
                for p in levels.get(strength) or ():
                    patterns.append((kind, strength, re.compile(expand(str(p)))))
        mods = raw["modifiers"]

        def words(key: str) -> tuple[str, ...]:
            return tuple(str(w) for w in mods.get(key) or ())

        return cls(
            tuple(patterns),
            hedges=words("hedges"),
            past=words("past"),
            media=words("media"),
            joke=words("joke"),
            question=words("question"),
            resolved=words("resolved"),
            chronic=words("chronic"),
            negations=tuple(sorted(words("negations"), key=len, reverse=True)),
            after=words("after"),
            future=words("future"),
            figurative=tuple(re.compile(p) for p in words("figurative")),
            how_to=words("how_to"),
            habitual=words("habitual"),
            ongoing_kinds=tuple((str(k), str(v)) for k, v in (mods.get("ongoing_kinds") or {}).items()),
            how_to_patterns=tuple(re.compile(p) for p in words("how_to_patterns")),
            live_media=tuple(re.compile(expand(p)) for p in words("live_media")),
            media_activity=tuple(re.compile(p) for p in words("media_activity")),
            question_patterns=tuple(re.compile(p) for p in words("question_patterns")),
            still=tuple(re.compile(expand(p)) for p in words("still")),
            not_hedges=words("not_hedges"),
        )


class RiskLayer:
    """Pure: `assess(surface, normalized)` looks at both forms of one message."""

    def __init__(self, lexicon: RiskLexicon) -> None:
        self.lex = lexicon

    def assess(self, *forms: str) -> Risk:
        figures = any(p.search(f) for p in self.lex.figurative for f in forms)
        if figures:  # 吵得要命: the figure is no sign; what else the message says still counts
            forms = tuple(_strip(f, self.lex.figurative) for f in forms)
        cues = self.cues(forms)
        if figures:  # 脑壳都要炸了，救命哦: a cry after a figure is part of the figure
            cues = [c for c in cues if c.kind != ALARM]
        if figures and not any(c.live for c in cues):
            return Risk(None, tuple(cues), "joke")
        cut = self._since_switch(forms, cues)
        framing = self._framing(
            tuple(f[at:] for f, at in zip(forms, cut, strict=True)),
            tuple(f[at:] for f, at in zip(_masked(forms, cues), cut, strict=True)),
        )
        live = [c for c in cues if c.live]
        strong = {c.kind for c in live if c.strength == "strong"}
        weak = _apart([c for c in live if c.strength == "weak" and c.kind != EXPOSED])
        exposed = any(c.kind == EXPOSED for c in live)
        ongoing = any(c.ongoing for c in cues)
        if framing in ("media", "joke"):
            return Risk(None, tuple(cues), framing)  # a story or a joke: nobody is in danger now
        if framing == "question":  # what one would do if ...: nobody is in danger now
            return Risk(None, tuple(cues), framing)
        if framing == HOW_TO:  # even about what might happen (要是他再打我咋办): ask
            return Risk(SUSPECTED if cues else None, tuple(cues), framing)
        if framing:  # told as already over, or as a standing hazard: ask at most
            return Risk(SUSPECTED if strong or ongoing else None, tuple(cues), framing)
        if strong or len(weak) >= 2 or (weak and exposed):
            return Risk(EMERGENCY, tuple(cues))
        if weak or ongoing:
            return Risk(SUSPECTED, tuple(cues))
        return Risk(None, tuple(cues))  # only hedged or past cues

    def cues(self, forms: Iterable[str]) -> list[Cue]:
        """At most one cue per pattern (the first live match, else the first match)."""
        found: dict[int, Cue] = {}
        for form, text in enumerate(dict.fromkeys(f for f in forms if f)):
            for index, (kind, strength, pattern) in enumerate(self.lex.patterns):
                if index in found and found[index].live:
                    continue
                for m in pattern.finditer(text):
                    live = self._live(text, m.start(), m.end())
                    ongoing = not live and self._ongoing(kind, strength) and self._habit(text, m.start())
                    cue = Cue(kind, strength, m.group(), live, (form, m.start(), m.end()), ongoing)
                    if index not in found or cue.live:
                        found[index] = cue
                    if cue.live:
                        break
        return list(found.values())

    def _ongoing(self, kind: str, strength: str) -> bool:
        return any(
            k == kind and (least == "weak" or strength == "strong") for k, least in self.lex.ongoing_kinds
        )

    def _habit(self, text: str, start: int) -> bool:
        """Said as a habit in its own clause (老是, 经常), not as the past or denied."""
        clause_start = max((m.end() for m in _TURN.finditer(text, 0, start)), default=0)
        before = text[clause_start:start]
        return (
            any(w in before for w in self.lex.habitual)
            and not any(w in before for w in self.lex.past)
            and not self._denied(before)
        )

    def _live(self, text: str, start: int, end: int) -> bool:
        if text.startswith(self.lex.after, end):
            return False
        clause_start = max((m.end() for m in _TURN.finditer(text, 0, start)), default=0)
        before = text[clause_start:start]
        past = before
        for w in self.lex.future:
            past = past.replace(w, "")
        hedged = before
        for w in self.lex.not_hedges:
            hedged = hedged.replace(w, "")
        if any(w in hedged for w in self.lex.hedges):
            return False
        clause_end = next((m.start() for m in _TURN.finditer(text, end) if m.start() >= end), len(text))
        if any(w in past for w in self.lex.past) and not _UNTIL_NOW.search(
            text, clause_start, min(end + 6, clause_end)
        ):
            return False  # 昨天晚上出去散步到现在一直没回来, 昨天摔了一跤到现在都起不来: since then, not then
        return not self._denied(before)

    def _still(self, text: str, resolved: tuple[str, ...]) -> bool:
        """Something still wrong is said after the last word that the danger is over."""
        ends = [m.end() for m in _any_of(resolved).finditer(text)]
        return bool(ends) and any(p.search(text, ends[-1]) for p in self.lex.still)

    def _denied(self, before: str) -> bool:
        return (
            not _A_NOT_A.search(before)
            and not _NOT_DENIAL.search(before)
            and any(before.endswith(n) or before[:-1].endswith(n) for n in self.lex.negations)
        )

    def _since_switch(self, forms: tuple[str, ...], cues: list[Cue]) -> list[int]:
        """Where each form's last change of matter before the first live cue ends (0: none)."""
        live = sorted(c.span for c in cues if c.live)
        if not live:
            return [0] * len(forms)
        form, start, _ = live[0]
        switches = sum(1 for m in _SWITCH.finditer(forms[form]) if m.end() <= start)
        cut = []
        for f in forms:
            ends = [m.end() for m in _SWITCH.finditer(f)]
            cut.append(ends[switches - 1] if switches and len(ends) >= switches else 0)
        return cut

    def _told(self, forms: tuple[str, ...]) -> str:
        return " ".join(_strip(f, self.lex.media_activity) for f in forms)

    def _framing(self, forms: tuple[str, ...], masked: tuple[str, ...]) -> str:
        """How the message is told; `masked` has the live cues blanked, so that words inside a cue
        (火灭了，厨房一股怪味) do not tell it as over."""
        text = " ".join(forms)
        lex = self.lex
        live_media = any(p.search(form) for p in lex.live_media for form in forms)
        for name, words in (
            ("media", () if live_media else lex.media),
            ("joke", lex.joke),
            ("question", lex.question),
            ("resolved", lex.resolved),
            ("chronic", lex.chronic),
            (HOW_TO, lex.how_to),
        ):
            said = text
            if name == "media" and _any_of(words).search(text):
                said = self._told(forms)  # without what one was doing when it began (在家看电视呢，…)
            if name == "question":
                said = _strip_pleas(said, words)
            if name == "resolved":
                if self._still(said, words):
                    continue  # 现在醒了说心口难受: better, but not over
                said = " ".join(masked)
            if _any_of(words).search(said) and any(_said(said, w) for w in words):
                return name
            if name == "question" and any(p.search(form) for p in lex.question_patterns for form in forms):
                return name
        if any(p.search(form) for p in lex.how_to_patterns for form in forms):
            return HOW_TO
        return ""


def _strip_pleas(text: str, words: tuple[str, ...]) -> str:
    """Without question words said at a loss (不知道该找谁)."""
    return re.sub("(?:" + "|".join(_PLEA) + ")(?:" + _any_of(words).pattern + ")", "", text)


def _masked(forms: tuple[str, ...], cues: list[Cue]) -> tuple[str, ...]:
    """The forms with each live cue blanked out."""
    chars = [list(f) for f in forms]
    for c in cues:
        if c.live:
            form, start, end = c.span
            chars[form][start:end] = " " * (end - start)
    return tuple("".join(c) for c in chars)


def _strip(form: str, patterns: tuple[re.Pattern[str], ...]) -> str:
    for p in patterns:
        form = p.sub("", form)
    return form


def _apart(cues: list[Cue]) -> list[Cue]:
    """Weak cues that do not overlap (two patterns reading the same words are one sign, not two)."""
    kept: list[Cue] = []
    for cue in sorted(cues, key=lambda c: c.span):
        form, start, end = cue.span
        if not any(k.span[0] == form and k.span[1] < end and start < k.span[2] for k in kept):
            kept.append(cue)
    return kept


@functools.lru_cache(maxsize=32)
def _any_of(words: tuple[str, ...]) -> re.Pattern[str]:
    """One search for a list of words: most messages hold none of them, and then `_said` is not run."""
    return re.compile("|".join(map(re.escape, words)) or "(?!)")


def _said(text: str, word: str) -> bool:
    """`word` occurs in `text` and is neither denied nor asked about right before it (今天就不落屋了 is
    not 落屋了; 是不是歇一下就好了 asks whether it will pass)."""
    at = text.find(word)
    while at >= 0:
        if not text[:at].endswith(_UNSAID):
            return True
        at = text.find(word, at + 1)
    return False
