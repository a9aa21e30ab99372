"""Choosing among a recognizer's readings of one utterance (n-best): pure, text in, Parse out.

Each reading is parsed; its score is how well it parses plus its acoustic log-probability relative to
the recognizer's first reading, weighted. The first reading wins ties, so without alternatives (or
when none parses better by more than its acoustic deficit) nothing changes.

Fail safe: a reading the recognizer found nearly as likely (relative log-probability at least
RISK_MIN_LOGPROB) that carries a risk cue the chosen one lacks makes the chosen parse at least
"suspected", with the cue (marked "nbest:") so the dialogue asks the safety question.

Doubt: a reading nearly as likely (at least DISPUTE_MIN_LOGPROB) that is understood differently (another
intent, item or emergency) makes the chosen one `disputed`; `heard_confidence` then puts it below the
read-back threshold, so a report is read back word for word before it is filed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from nlu.risk import EMERGENCY, SUSPECTED
from nlu.types import Parse

ACOUSTIC_WEIGHT = 4.0  # score points per nat of average log-probability per token
RISK_MIN_LOGPROB = -0.5  # an alternative at least this likely (relative) is heard for the fail safe
DISPUTE_MIN_LOGPROB = -1.0  # an alternative at least this likely (relative) that means otherwise: doubt
KNOWN_ITEM_BONUS = 0.15  # a report that names a demand item parses better than one that does not
_PLAIN = ("out_of_scope",)


@dataclass(frozen=True)
class Reading:
    text: str
    logprob: float  # average log-probability per token relative to the first reading (0 for it)
    parse: Parse
    score: float
    disputed: bool = False  # a likely other reading is understood differently


def parse_quality(parse: Parse) -> float:
    """How well a reading parses, 0..~1.2: out of scope is 0, an emergency counts in full, else the
    model's confidence in its label, and a little more for a report with a known item."""
    if parse.intent in _PLAIN:
        return 0.0
    if parse.intent == EMERGENCY or parse.risk == EMERGENCY:
        return 1.0 + KNOWN_ITEM_BONUS
    quality = parse.confidence
    if parse.intent == "report" and parse.item:
        quality += KNOWN_ITEM_BONUS
    return quality


def readings(
    parse: Callable[[str], Parse],
    text: str,
    alternatives: Sequence[tuple[str, float]],
    weight: float = ACOUSTIC_WEIGHT,
) -> list[Reading]:
    """The first reading and its alternatives (text, relative log-probability), parsed and scored."""
    out = []
    seen: set[str] = set()
    for said, logprob in ((text, 0.0), *alternatives):
        said = said.strip()
        if not said or said in seen:
            continue
        seen.add(said)
        p = parse(said)
        out.append(Reading(said, min(0.0, float(logprob)), p, parse_quality(p) + weight * min(0.0, logprob)))
    return out


def choose(
    parse: Callable[[str], Parse],
    text: str,
    alternatives: Sequence[tuple[str, float]] = (),
    weight: float = ACOUSTIC_WEIGHT,
) -> Reading:
    """The reading that parses best, weighed by acoustic score; never less safe than a likely
    alternative (see the module docstring). The first reading when there are no alternatives."""
    scored = readings(parse, text, alternatives, weight)
    if not scored:
        return Reading(text, 0.0, parse(text), 0.0)
    best = max(scored, key=lambda r: r.score)  # max keeps the first of equals: the recognizer's order
    others = [r for r in scored if r is not best]
    disputed = any(
        r.logprob >= DISPUTE_MIN_LOGPROB and meaning(r.parse) != meaning(best.parse) for r in others
    )
    return replace(best, parse=fail_safe(best.parse, others), disputed=disputed)


def meaning(parse: Parse) -> tuple[str, str | None, bool]:
    """What a reading would make the dialogue do: its intent, its item, whether it is an emergency."""
    return parse.intent, parse.item, parse.intent == EMERGENCY or parse.risk == EMERGENCY


def heard_confidence(confidence: float | None, reading: Reading, read_back_below: float) -> float | None:
    """The recognizer's confidence in what understanding took: lowered by how much less likely the
    chosen reading was than the first, and below `read_back_below` when the reading is disputed."""
    if confidence is None:
        return None
    heard = confidence * math.exp(reading.logprob)
    if reading.disputed:
        heard = min(heard, read_back_below / 2)
    return round(heard, 3)


def fail_safe(chosen: Parse, others: Sequence[Reading], min_logprob: float = RISK_MIN_LOGPROB) -> Parse:
    """`chosen`, made at least "suspected" when a likely other reading carries a risk it lacks."""
    if chosen.risk is not None:
        return chosen
    for r in others:
        if r.logprob >= min_logprob and r.parse.risk in (EMERGENCY, SUSPECTED):
            cues = r.parse.risk_cues or (r.parse.risk,)
            noted = tuple(f"nbest:{c}" for c in cues) + (f"nbest:heard:{r.text[:24]}",)
            return replace(chosen, risk=SUSPECTED, risk_cues=chosen.risk_cues + noted)
    return chosen
