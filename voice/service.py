"""The app's one door to speech: built once at start-up with loaded models, async methods that
run blocking decode/inference/encode in worker threads."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from core.errors import AudioError, AudioTooLong, EmptyAudio
from core.render import Rendered
from voice import codecs
from voice.asr import NotRecognized, Recognition, Transcriber, Transcript, load_transcriber
from voice.batching import BatchDecoder, Batcher, Priority, QueueFull
from voice.prompts import PROMPT_DIR, PromptLibrary
from voice.speech import SpeechAssembler
from voice.tts import load_synthesizer
from voice.vocabulary import catalog_vocabulary

M_ARENA_MAX = -8  # mallopt parameter (glibc malloc.h)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VoiceLimits:
    max_seconds: float = 60.0
    max_bytes: int = 2 * 1024 * 1024
    min_confidence: float = 0.6  # below it the dialogue reads the request back


class RecognitionObserver(Protocol):
    """Told about recognitions (the operator's metrics)."""

    def recognition_waiting(self, count: int) -> None: ...

    def recognized(self, seconds: float) -> None: ...


@dataclass(frozen=True)
class Batching:
    batch_max: int = 1  # recognitions decoded together at most
    pad_s: float = 1.0  # clips whose windows differ by more are not batched together
    queue_max: int = 32  # recognitions waiting or running; beyond, all but incoming calls are refused
    workers: int = 1  # decoding threads (the model gets as many replicas)
    hurry_at: int = 0  # requests still waiting from which a request is decoded greedily (0: never)


class VoiceService:
    """transcribe(bytes) → Transcript | NotRecognized; speak(Rendered) → encoded audio.

    A recognizer that can batch (voice.batching.BatchDecoder, i.e. Whisper) gets one worker thread
    and a priority queue; others (Vosk) run in at most `max_parallel` threads."""

    def __init__(
        self,
        transcriber: Transcriber,
        assembler: SpeechAssembler,
        limits: VoiceLimits = VoiceLimits(),
        max_parallel: int = 2,
        observer: RecognitionObserver | None = None,
        batching: Batching = Batching(),
    ) -> None:
        self.transcriber = transcriber
        self.assembler = assembler
        self.limits = limits
        # At most this many inferences at once; a thread semaphore binds to no event loop.
        self._slots = threading.BoundedSemaphore(max_parallel)
        self._max_parallel = max_parallel
        self.batcher: Batcher | None = None
        if isinstance(transcriber, BatchDecoder):
            self.batcher = Batcher(
                transcriber,
                batching.batch_max,
                batching.pad_s,
                batching.queue_max,
                batching.workers,
                batching.hurry_at,
            )
            # Room for a speculative guess: as many as two decodes' worth waiting (as with two slots).
            self._max_parallel = max(2, batching.batch_max * batching.workers)
        self._pending = 0  # recognitions running or waiting
        self._count = threading.Lock()
        self.observer = observer

    @property
    def has_spare_capacity(self) -> bool:
        """True when a recognition started now would not wait behind a full batch or slot."""
        return self._pending < self._max_parallel

    def recognize(
        self,
        data: bytes,
        fmt_hint: str | None = None,
        hints: Sequence[str] = (),
        priority: Priority = Priority.NOTE,
    ) -> Recognition:
        """Blocking: decode any supported audio and recognize it; bad audio becomes NotRecognized."""
        planned = self._plan(data, fmt_hint, hints)
        if isinstance(planned, Transcript | NotRecognized):
            return planned
        if isinstance(planned, bytes):
            return self._unbatched(planned, fmt_hint, hints)
        future = self._submit(planned, priority)
        if isinstance(future, NotRecognized):
            return future
        return self._outcome(future)

    async def transcribe(
        self,
        data: bytes,
        fmt_hint: str | None = None,
        hints: Sequence[str] = (),
        priority: Priority = Priority.NOTE,
    ) -> Recognition:
        """recognize() without holding a thread while the request waits for its batch."""
        planned = await asyncio.to_thread(self._plan, data, fmt_hint, hints)
        if isinstance(planned, Transcript | NotRecognized):
            return planned
        if isinstance(planned, bytes):
            return await asyncio.to_thread(self._unbatched, planned, fmt_hint, hints)
        future = self._submit(planned, priority)
        if isinstance(future, NotRecognized):
            return future
        try:
            await asyncio.wait(  # shielded: a cancelled caller leaves the batch alone
                [asyncio.wrap_future(future)], return_when=asyncio.ALL_COMPLETED
            )
        except asyncio.CancelledError:
            future.cancel()  # still queued: dropped unseen; already decoding: the result is unused
            raise
        return self._outcome(future)

    def _plan(self, data: bytes, fmt_hint: str | None, hints: Sequence[str]) -> Recognition | bytes | Any:
        """Decoded audio → a NotRecognized, the PCM (no batching here) or the recognizer's job."""
        try:
            pcm = codecs.decode(
                data, fmt_hint, max_seconds=self.limits.max_seconds, max_bytes=self.limits.max_bytes
            )
        except EmptyAudio:
            return NotRecognized("empty")
        except AudioTooLong:
            return NotRecognized("too_long")
        except AudioError as err:
            log.info("undecodable audio (%s): %s", fmt_hint, err)
            return NotRecognized("corrupt")
        if self.batcher is None:
            return pcm
        try:
            return self.batcher.decoder.plan(pcm, hints, codecs.is_narrowband(fmt_hint))
        except Exception:  # an engine fault must not take the conversation down
            log.exception("recognizer %s failed", self.transcriber.name)
            return NotRecognized("error")

    def _submit(self, job: Any, priority: Priority) -> Future[Recognition] | NotRecognized:
        assert self.batcher is not None
        try:
            future = self.batcher.submit(job, priority)
        except QueueFull:
            log.info("recognition queue full: refused (priority %s)", priority.name)
            return NotRecognized("busy")
        self._waiting(+1)
        started = time.perf_counter()

        def done(_: Future[Recognition]) -> None:
            self._waiting(-1)
            if self.observer is not None:
                self.observer.recognized(time.perf_counter() - started)

        future.add_done_callback(done)
        return future

    def _outcome(self, future: Future[Recognition]) -> Recognition:
        try:
            return future.result()
        except Exception:  # an engine fault must not take the conversation down
            log.exception("recognizer %s failed", self.transcriber.name)
            return NotRecognized("error")

    def _unbatched(self, pcm: bytes, fmt_hint: str | None, hints: Sequence[str]) -> Recognition:
        self._waiting(+1)
        started = time.perf_counter()
        try:
            with self._slots:
                if codecs.is_narrowband(fmt_hint):
                    return self.transcriber.transcribe_narrowband(pcm, hints)
                return self.transcriber.transcribe(pcm, hints)
        except Exception:  # an engine fault must not take the conversation down
            log.exception("recognizer %s failed", self.transcriber.name)
            return NotRecognized("error")
        finally:
            self._waiting(-1)
            if self.observer is not None:
                self.observer.recognized(time.perf_counter() - started)

    def _waiting(self, change: int) -> None:
        with self._count:
            self._pending += change
            if self.observer is not None:
                self.observer.recognition_waiting(self._pending)

    def render_audio(self, reply: Rendered | str, fmt: str = "mp3") -> bytes:
        """Blocking: assemble speech for a reply and encode it (mp3 | amr | ogg | wav | mulaw8k | pcm16k)."""
        return codecs.encode(self.assembler.assemble(reply).pcm, fmt)

    async def speak(self, rendered: Rendered | str, fmt: str = "mp3") -> bytes:
        return await asyncio.to_thread(self.render_audio, rendered, fmt)

    def needs_confirmation(self, result: Recognition) -> bool:
        """True when a recognized request must be read back before anything is filed."""
        return isinstance(result, NotRecognized) or result.confidence < self.limits.min_confidence


def limit_malloc_arenas(arenas: int) -> bool:
    """Cap glibc's malloc arenas for the threads created from now on (0: leave glibc's 8 a core).
    Each decoding thread otherwise keeps its own arena, holding the buffers of a 30 s window after it
    is done with them: peak RSS 747 -> about 600 MB with 2 (`bench voice`), no slower."""
    if arenas <= 0:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to cap
        return False


def build_transcriber(settings: Any) -> Transcriber:
    """Load the configured recognizer with the catalog's vocabulary (once, at start-up)."""
    asr, paths = settings.asr, settings.paths
    limit_malloc_arenas(asr.malloc_arenas)
    vocabulary = catalog_vocabulary(settings.path(paths.catalog))
    if asr.backend == "whisper" and not asr.whisper_catalog_prompt:
        vocabulary = ()  # Whisper's prompt then holds only the hints (voice/vocabulary.py)
    if asr.backend == "whisper":
        model_dir = settings.path(paths.model_cache) / asr.whisper_model
    else:
        model_dir = settings.path(asr.vosk_model_dir)
    return load_transcriber(
        asr.backend,
        model_dir,
        vocabulary=vocabulary,
        compute_type=asr.whisper_compute_type,
        threads=asr.whisper_threads,
        workers=asr.workers,
        beam_size=asr.whisper_beam_size,
        narrowband_beam_size=asr.whisper_phone_beam_size,
        nbest=asr.whisper_nbest,
        full_window=asr.whisper_full_window,
        loop_penalty=asr.whisper_loop_penalty,
    )


def build_assembler(settings: Any, prompt_dir: Path = PROMPT_DIR, warm: bool = False) -> SpeechAssembler:
    """The prompt library plus the live voice for free text, as configured in `tts`."""
    tts = settings.tts
    live_backend = tts.live_backend if tts.backend == "prompts" else tts.backend
    live = load_synthesizer(
        live_backend,
        espeak_voice=tts.espeak_voice,
        espeak_speed=tts.espeak_speed,
        gtts_timeout=tts.gtts_timeout_seconds,
    )
    library = PromptLibrary(prompt_dir if tts.backend == "prompts" else Path("/nonexistent"))
    if warm:
        library.warm()
    return SpeechAssembler(library, live)


def build_voice_service(
    settings: Any,
    *,
    prompt_dir: Path = PROMPT_DIR,
    warm: bool = False,
    observer: RecognitionObserver | None = None,
) -> VoiceService:
    """Everything voice needs, loaded once (settings is core.settings.Settings: asr, tts, paths)."""
    asr = settings.asr
    limits = VoiceLimits(asr.max_seconds, asr.max_bytes, asr.min_confidence)
    batching = Batching(
        asr.batch_max, asr.batch_pad_seconds, asr.queue_max, asr.workers, asr.greedy_when_waiting
    )
    assembler = build_assembler(settings, prompt_dir, warm)
    return VoiceService(build_transcriber(settings), assembler, limits, observer=observer, batching=batching)
