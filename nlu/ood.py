"""Out-of-distribution figures from ../shared/evaldata (measured only; nothing here is trained on).

- teddycup2020: message titles whose platform label maps cleanly (环境保护 -> facilities,
  劳动和社会保障 -> affairs); the rest is reported as unmapped.
- fuzhou12345: 投诉/举报 titles should open a ticket (report or emergency).
- smp2017: assistant queries, all out of scope: how often one would wrongly open a ticket.
- sichuan_dialect_dict: example sentences as a dialect smoke test; lexicon coverage of the head words.
- zh_speech_clips: transcripts (a filler-only clip must not open a ticket).
Files are read only when present.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nlu.parser import Parser
from nlu.resources import load_dialect
from nlu.types import Parse

TEDDY_MAP = {"环境保护": "facilities", "劳动和社会保障": "affairs"}
TICKET_INTENTS = ("report", "emergency")
THRESHOLD = 0.55  # config.yaml nlu.confidence_threshold: below it the dialogue asks instead of filing


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)


PASSED_ON = ("out_of_scope", "help", "query_status", "urge", "cancel")


def reaches_person(parse: Parse) -> bool:
    """What a new resident's message leads to in the dialogue: a ticket, a safety question, or — for a
    complaint-shaped message understanding cannot place, or status/urge about nothing filed — a
    message (留言) that a person reads."""
    if parse.intent in TICKET_INTENTS or parse.risk:
        return True
    return parse.complaint and parse.intent in PASSED_ON


def _rate(hits: int, n: int) -> float:
    return round(hits / n, 4) if n else 0.0


def teddycup(parser: Parser, root: Path) -> dict[str, Any]:
    mapped = unmapped = correct = as_ticket = person = 0
    for row in _rows(root / "teddycup2020_gov_messages" / "messages_labeled.tsv"):
        want = TEDDY_MAP.get(row.get("一级分类", ""))
        if want is None:
            unmapped += 1
            continue
        parse = parser.parse(row.get("留言主题", ""))
        mapped += 1
        correct += parse.category == want
        as_ticket += parse.intent in TICKET_INTENTS
        person += reaches_person(parse)
    return {"mapped": mapped, "unmapped": unmapped, "category_accuracy": _rate(correct, mapped),
            "ticket_rate": _rate(as_ticket, mapped), "ticket_or_message_rate": _rate(person, mapped)}  # fmt: skip


def fuzhou(parser: Parser, root: Path) -> dict[str, Any]:
    n = tickets = facilities = person = 0
    for row in _rows(root / "fuzhou12345_2016" / "requests_by_nature.tsv"):
        if row.get("性质") not in ("投诉", "举报"):
            continue
        parse = parser.parse(row.get("标题", ""))
        n += 1
        tickets += parse.intent in TICKET_INTENTS
        facilities += parse.category == "facilities"
        person += reaches_person(parse)
    return {"complaints": n, "ticket_rate": _rate(tickets, n), "ticket_or_message_rate": _rate(person, n),
            "facilities_rate": _rate(facilities, n)}  # fmt: skip


def smp(parser: Parser, root: Path) -> dict[str, Any]:
    n = tickets = confident = urgent = person = 0
    intents: Counter[str] = Counter()
    for row in _rows(root / "smp2017_ecdt" / "Chinese_data.tsv"):
        parse = parser.parse(row.get("Sentence", ""))
        n += 1
        intents[parse.intent] += 1
        tickets += parse.intent in TICKET_INTENTS
        confident += parse.intent in TICKET_INTENTS and parse.confidence >= THRESHOLD
        urgent += parse.urgent
        person += reaches_person(parse)
    return {"queries": n, "false_ticket_rate": _rate(tickets, n), "false_ticket_rate_confident": _rate(confident, n),
            "false_ticket_or_message_rate": _rate(person, n),
            "urgent_rate": _rate(urgent, n), "intents": dict(intents.most_common())}  # fmt: skip


def sichuan(parser: Parser, root: Path) -> dict[str, Any]:
    """Example sentences (smoke test) and lexicon coverage of the dictionary's head words."""
    lexicon = {e.word: e.mandarin for e in load_dialect()}
    heads: dict[str, str] = {}
    sentences: list[str] = []
    for row in _rows(root / "sichuan_dialect_dict" / "sichuanese_to_mandarin.tsv"):
        word = row.get("word", "")
        heads.setdefault(word, "")
        heads[word] += row.get("gloss_mandarin", "")
        sentences += [
            s.replace("～", word).strip() for s in (row.get("examples") or "").split("|") if s.strip()
        ]
    in_lexicon = [w for w in heads if w in lexicon]
    gloss_match = [w for w in in_lexicon if lexicon[w] in heads[w]]
    intents: Counter[str] = Counter(parser.parse(s).intent for s in sentences)
    urgent = sum(parser.parse(s).urgent for s in sentences)
    return {"head_words": len(heads), "in_lexicon": len(in_lexicon), "coverage": _rate(len(in_lexicon), len(heads)),
            "gloss_agrees": len(gloss_match), "example_sentences": len(sentences),
            "example_ticket_rate": _rate(sum(intents[i] for i in TICKET_INTENTS), len(sentences)),
            "example_urgent_rate": _rate(urgent, len(sentences)), "example_intents": dict(intents.most_common())}  # fmt: skip


def speech(parser: Parser, root: Path) -> dict[str, Any]:
    out = {}
    for row in _rows(root / "zh_speech_clips" / "transcripts.tsv"):
        parse = parser.parse(row.get("transcript", ""))
        out[row.get("file", "")] = {
            "intent": parse.intent,
            "item": parse.item,
            "confidence": parse.confidence,
        }
    return out


def run(parser: Parser, root: Path) -> dict[str, Any]:
    """Every figure whose files are present under root."""
    report: dict[str, Any] = {"evaldata": str(root)}
    for name, func, folder in (("teddycup2020", teddycup, "teddycup2020_gov_messages"),
                               ("fuzhou12345", fuzhou, "fuzhou12345_2016"), ("smp2017", smp, "smp2017_ecdt"),
                               ("sichuan_dict", sichuan, "sichuan_dialect_dict"),
                               ("speech_clips", speech, "zh_speech_clips")):  # fmt: skip
        report[name] = func(parser, root) if (root / folder).is_dir() else "not present"
    return report
