"""A G.711 µ-law RTP stream in a pcap file, for SIPp's `play_pcap_audio`: real speech on the wire.

SIPp replays the UDP payloads with the capture's own timing and rewrites addresses and ports, so
the Ethernet/IP/UDP headers only need to be well formed (checksums are left at zero).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

PTIME_MS = 20
SAMPLES = 8000 * PTIME_MS // 1000  # 160 per packet


def ulaw(pcm: bytes) -> bytes:
    """16-bit linear PCM → G.711 µ-law (the ITU-T table, computed)."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.int32)
    sign = np.where(x < 0, 0x80, 0)
    mag = np.minimum(np.abs(x), 32635) + 0x84
    exponent = np.floor(np.log2(mag)).astype(np.int32) - 7
    mantissa = (mag >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def _packet(payload: bytes, seq: int, ts: int, ssrc: int) -> bytes:
    rtp = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + payload
    udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])
    )
    eth = b"\x00" * 12 + b"\x08\x00"
    return eth + ip + udp


def write_pcap(path: Path, pcm8k: bytes, ssrc: int = 0x1A2B3C4D) -> Path:
    """8 kHz s16 PCM → a pcap of PCMU RTP packets, one every 20 ms."""
    data = ulaw(pcm8k + b"\x00\x00" * (-(len(pcm8k) // 2) % SAMPLES))
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]  # Ethernet link type
    for i in range(len(data) // SAMPLES):
        frame = _packet(data[i * SAMPLES : (i + 1) * SAMPLES], i, i * SAMPLES, ssrc)
        usec = i * PTIME_MS * 1000
        out.append(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))
    return path
