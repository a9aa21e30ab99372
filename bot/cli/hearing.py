"""How well spoken requests are understood: `python -m bot voice-eval DIR` recognizes every clip of a
directory (voice/evaluation.py) and classifies what was heard and what was said, so the share
classified right stands beside the typed sentences' own. It lives here because understanding (nlu)
and speech (voice) may not import each other."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.cli import Command
from core.errors import VoiceError
from core.settings import Settings


def _voice_eval(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import load_parser
    from bot.engine import spoken_parse
    from nlu.nbest import choose, heard_confidence
    from nlu.types import Parse
    from voice.evaluation import details, evaluate, recognizer
    from voice.service import build_transcriber

    parser = load_parser(settings, str(settings.path(settings.paths.catalog)))

    heard = parser.parse if args.typed_rules else spoken_parse(parser)

    def outcome(parse: Parse) -> tuple[str, str | None]:
        if parse.risk == "emergency":
            return "emergency", None
        return parse.intent, parse.item

    def pick(text: str, confidence: float, alternatives: tuple[tuple[str, float], ...]) -> tuple[str, float]:
        reading = choose(heard, text, () if args.first_only else alternatives)
        understood = heard_confidence(confidence, reading, settings.asr.min_confidence)
        return reading.text, confidence if understood is None else understood

    transcriber = build_transcriber(settings)
    try:
        report = evaluate(
            Path(args.dir),
            recognizer(transcriber, args.decoder),
            lambda text: outcome(parser.parse(text)),
            args.limit,
            pick,
            lambda text: outcome(heard(text)),
        )
    except VoiceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    summary = {
        "dir": str(args.dir),
        "decoder": args.decoder,
        "nbest": not args.first_only,
        "spoken_rules": not args.typed_rules,
        **report.summary(settings.asr.min_confidence),
    }
    if args.details:
        summary["details"] = details(report)
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0


def _arguments(parser: argparse.ArgumentParser) -> None:
    from voice.evaluation import eval_arguments

    eval_arguments(parser)
    parser.add_argument(
        "--first-only", action="store_true", help="understand the first reading only (ignore the n-best)"
    )
    parser.add_argument(
        "--typed-rules",
        action="store_true",
        help="understand what was heard as typed text (no spoken repair)",
    )


COMMANDS = [
    Command(
        "voice-eval",
        "recognize a directory of clips and score transcripts and understanding (CER, classified right)",
        _voice_eval,
        _arguments,
    ),
]
