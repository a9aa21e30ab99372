"""A real SIP phone for the tests: Debian's baresip CLI, headless.

Its microphone is a WAV file (`aufile`), its speaker a bridge to nowhere (`aubridge`), and `sndfile`
records what it hears. Keys and hang-up are sent through its TCP control socket at any moment.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import wave
from pathlib import Path

import numpy as np

BARESIP = shutil.which("baresip")
SIPP = shutil.which("sipp")


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_wav(path: Path, pcm8k: bytes) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(pcm8k)
    return path


def read_wav(path: Path) -> tuple[bytes, int]:
    with wave.open(str(path), "rb") as w:
        return w.readframes(w.getnframes()), w.getframerate()


def silence(seconds: float) -> bytes:
    return b"\x00\x00" * int(8000 * seconds)


def loud_seconds(pcm: bytes, rate: int = 8000) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
    frames = samples[: samples.size // 160 * 160].reshape(-1, 160)
    return float((np.sqrt((frames**2).mean(axis=1)) > 300).sum() * 160 / rate)


class Phone:
    """One baresip CLI instance calling `target` with `number` as caller ID."""

    def __init__(self, workdir: Path, number: str, mic_pcm8k: bytes) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "rec").mkdir(exist_ok=True)
        self.mic = write_wav(self.dir / "mic.wav", mic_pcm8k)
        self.ctrl_port = free_port(socket.SOCK_STREAM)
        sip_port = free_port()
        (self.dir / "config").write_text(
            "\n".join(
                [
                    "poll_method epoll",
                    f"sip_listen 127.0.0.1:{sip_port}",
                    "audio_player aubridge,nil",
                    f"audio_source aufile,{self.mic}",
                    "audio_alert aubridge,nil",
                    "module_path /usr/lib/baresip/modules",
                    *(
                        f"module {m}.so"
                        for m in ("g711", "aufile", "aubridge", "sndfile", "ctrl_tcp", "menu", "account")
                    ),
                    f"snd_path {self.dir / 'rec'}",
                    f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}",
                    "net_interface 127.0.0.1",
                    "",
                ]
            )
        )
        (self.dir / "accounts").write_text(f"<sip:{number}@127.0.0.1>;regint=0;answermode=manual\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def dial(self, target: str, max_seconds: int = 90) -> None:
        log = open(self.dir / "baresip.log", "wb")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [BARESIP or "baresip", "-f", str(self.dir), "-e", f"/dial {target}", "-t", str(max_seconds)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def command(self, command: str, params: str = "") -> None:
        body = json.dumps({"command": command, "params": params, "token": "t"}).encode()
        for _ in range(50):
            try:
                with socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=2) as s:
                    s.sendall(str(len(body)).encode() + b":" + body + b",")
                    s.recv(4096)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("baresip control socket did not answer")

    def press(self, keys: str) -> None:
        for key in keys:
            self.command("sndcode", key)
            time.sleep(0.3)

    def hangup(self) -> None:
        self.command("hangup")

    def wait(self, timeout: float = 120) -> None:
        if self.proc is not None:
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def heard(self) -> bytes:
        """What the phone's speaker received (8 kHz PCM)."""
        # sndfile starts a new dump when the stream is updated (the re-INVITE): take the longest.
        files = sorted((self.dir / "rec").glob("*-dec.wav"), key=lambda p: p.stat().st_size)
        return read_wav(files[-1])[0] if files else b""

    def log(self) -> str:
        path = self.dir / "baresip.log"
        return path.read_text(errors="replace") if path.exists() else ""
