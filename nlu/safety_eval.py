"""Score a labelled set of lines on the three safety outcomes (python -m nlu eval --set FILE).

Each line of the set has `label` (emergency | near_miss | ordinary), and optionally `kind`, `how`, and
for ordinary lines `intent` and `item`. What understanding does with a line, as the resident meets it:

    alert    the risk layer or the model calls it an emergency: people are alerted at once
    ask      risk suspected: the safety question comes first
    ticket   an ordinary report (a leader is asked to act)
    answer   a status question, cancel, rating, hand-off to a person, greeting ...
    dismiss  out of scope, urging with nothing to urge, goodbye, a bare yes or no
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import yaml

from nlu.parser import Parser
from nlu.types import Parse

OUTCOMES = ("alert", "ask", "ticket", "answer", "dismiss")
DISMISSING = ("out_of_scope", "urge", "goodbye", "confirm", "deny")


def outcome(parse: Parse) -> str:
    if parse.risk == "emergency":
        return "alert"
    if parse.risk == "suspected":
        return "ask"
    if parse.intent == "report":
        return "ticket"
    if parse.intent in DISMISSING:
        return "dismiss"
    return "answer"


def _pct(n: int, d: int) -> float:
    return round(100.0 * n / d, 1) if d else 0.0


def score(parser: Parser, rows: list[dict[str, Any]]) -> dict[str, Any]:
    confusion: Counter[tuple[str, str]] = Counter()
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    by_how: dict[str, Counter[str]] = defaultdict(Counter)
    missed: list[dict[str, Any]] = []
    false_alarms: list[dict[str, Any]] = []
    intents = items = reports = 0
    ordinary = 0
    for row in rows:
        parse = parser.parse(str(row["text"]))
        label, got = str(row["label"]), outcome(parse)
        confusion[(label, got)] += 1
        if label == "emergency":
            by_kind[str(row.get("kind", "?"))][got] += 1
            by_how[str(row.get("how", "?"))][got] += 1
            if got != "alert":
                missed.append(
                    {"text": row["text"], "got": got, "intent": parse.intent, "cues": parse.risk_cues}
                )
        elif got == "alert":
            false_alarms.append({"text": row["text"], "label": label, "cues": parse.risk_cues})
        if label == "ordinary" and row.get("intent"):
            ordinary += 1
            intents += parse.intent == row["intent"]
            if row["intent"] == "report":
                reports += 1
                items += parse.item == row.get("item")
    emergencies = sum(n for (label, _), n in confusion.items() if label == "emergency")
    others = sum(n for (label, _), n in confusion.items() if label != "emergency")
    alert = confusion[("emergency", "alert")]
    asked = confusion[("emergency", "ask")]
    return {
        "lines": len(rows),
        "emergency": {
            "n": emergencies,
            "alert_recall": _pct(alert, emergencies),
            "alert_or_ask": _pct(alert + asked, emergencies),
            "dismissed": sum(confusion[("emergency", o)] for o in ("dismiss", "answer")),
            "filed_as_ordinary_report": confusion[("emergency", "ticket")],
        },
        "not_emergency": {
            "n": others,
            "false_alarms": _pct(sum(confusion[(lb, "alert")] for lb in ("near_miss", "ordinary")), others),
            "asked": _pct(sum(confusion[(lb, "ask")] for lb in ("near_miss", "ordinary")), others),
        },
        "ordinary": {
            "n": ordinary,
            "intent": _pct(intents, ordinary),
            "item_of_reports": _pct(items, reports),
        },
        "confusion": {
            label: {o: confusion[(label, o)] for o in OUTCOMES}
            for label in ("emergency", "near_miss", "ordinary")
        },
        "emergency_by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
        "emergency_by_how": {k: dict(v) for k, v in sorted(by_how.items())},
        "missed": missed,
        "false_alarm_lines": false_alarms,
    }


def leave_writer_out(parser: Parser, training_dir: str | Path) -> dict[str, Any]:
    """The danger and live models' generalization to a writer they have not read: for each tuning set,
    both are fitted again without that set and the set scored with them (the rest of understanding unchanged; the
    risk lexicon has read every tuning set, so only the two models are held out)."""
    from nlu.bundle import DANGER_TRAINING, DangerLines
    from nlu.risk import RiskLayer
    from nlu.training import load_training

    bundle = parser.bundle
    norm = bundle.normalizer
    examples = load_training(training_dir).examples
    surfaces = [norm.surface(text) for text, _ in examples]
    texts = [norm.from_surface(s) for s in surfaces]
    labels = [label for _, label in examples]
    assert bundle.resources.risk is not None
    lines = DangerLines.of(
        surfaces, texts, labels, norm, bundle.featurizer, bundle.vectors, RiskLayer(bundle.resources.risk)
    )
    kept = bundle.danger_model, bundle.live_model
    out: dict[str, Any] = {}
    try:
        for held in DANGER_TRAINING:
            bundle.danger_model, bundle.live_model = lines.fit([p for p in DANGER_TRAINING if p != held])
            out[held.name] = score(parser, yaml.safe_load(held.read_text(encoding="utf-8")) or [])
    finally:
        bundle.danger_model, bundle.live_model = kept
    return out


def format_writers(report: dict[str, Any]) -> str:
    lines = [
        "set held out: alert at once / alert or safety question / false alarms / safety question on others"
    ]
    for name, r in report.items():
        em, other = r["emergency"], r["not_emergency"]
        lines.append(
            f"  {name:<20} {em['alert_recall']:>5}% / {em['alert_or_ask']:>5}% / {other['false_alarms']:>4}% / "
            f"{other['asked']:>4}%"
        )
    return "\n".join(lines)


def run(parser: Parser, path: Path) -> dict[str, Any]:
    rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return {"set": str(path), **score(parser, rows)}


def format_report(report: dict[str, Any], verbose: bool = False) -> str:
    em, other, ordinary = report["emergency"], report["not_emergency"], report["ordinary"]
    lines = [
        f"{report['set']}: {report['lines']} lines",
        f"emergencies ({em['n']}): alert at once {em['alert_recall']}%, alert or safety question "
        f"{em['alert_or_ask']}%, dismissed {em['dismissed']}, filed as an ordinary report "
        f"{em['filed_as_ordinary_report']}",
        f"not emergencies ({other['n']}): false alarms {other['false_alarms']}%, safety question asked "
        f"{other['asked']}%",
        f"ordinary lines ({ordinary['n']}): intent {ordinary['intent']}%, item of reports "
        f"{ordinary['item_of_reports']}%",
        "",
        "confusion (rows: label, columns: outcome)",
        f"{'':<11}" + "".join(f"{o:>8}" for o in OUTCOMES),
    ]
    for label, row in report["confusion"].items():
        lines.append(f"{label:<11}" + "".join(f"{row[o]:>8}" for o in OUTCOMES))
    for title, table in (
        ("emergencies by kind", "emergency_by_kind"),
        ("emergencies by how", "emergency_by_how"),
    ):
        lines += ["", title]
        for key, counts in report[table].items():
            n = sum(counts.values())
            lines.append(
                f"  {key:<13} {counts.get('alert', 0):>3}/{n:<3} alert, {counts.get('ask', 0)} asked"
            )
    if verbose:
        lines += ["", "emergencies not alerted:"]
        lines += [f"  [{m['got']}] {m['text']}  {list(m['cues'])}" for m in report["missed"]]
        lines += ["", "false alarms:"]
        lines += [f"  [{f['label']}] {f['text']}  {list(f['cues'])}" for f in report["false_alarm_lines"]]
    return "\n".join(lines)
