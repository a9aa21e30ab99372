"""WeChat callback payloads built from the documented formats, signed and encrypted here (not by wechatpy)."""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

TOKEN = "lianhutesttoken"
APP_ID = "wx1234567890abcdef"
APP_SECRET = "s3cr3t"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat issues it
ACCOUNT = "gh_lianhu"


def sha1_sign(*items: str) -> str:
    return hashlib.sha1("".join(sorted(items)).encode()).hexdigest()


def query(timestamp: str | None = None, nonce: str | None = None, token: str = TOKEN) -> dict[str, str]:
    """A signed query string; WeChat sends a fresh nonce with every push (a reused one is a replay)."""
    ts = timestamp or str(int(time.time()))
    nonce = nonce or os.urandom(6).hex()
    return {"signature": sha1_sign(token, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": "x"}


def _xml(sender: str, create_time: int, msg_type: str, body: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{body}</xml>"
    )


def text(sender: str, content: str, msg_id: int, create_time: int = 1700000000) -> str:
    return _xml(
        sender, create_time, "text", f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId>"
    )


def voice(
    sender: str, media_id: str, msg_id: int, recognition: str | None = None, create_time: int = 1700000000
) -> str:
    rec = f"<Recognition><![CDATA[{recognition}]]></Recognition>" if recognition is not None else ""
    return _xml(
        sender,
        create_time,
        "voice",
        f"<MediaId><![CDATA[{media_id}]]></MediaId><Format><![CDATA[amr]]></Format>{rec}<MsgId>{msg_id}</MsgId>",
    )


def location(sender: str, label: str, msg_id: int, create_time: int = 1700000000) -> str:
    return _xml(
        sender,
        create_time,
        "location",
        "<Location_X>30.657</Location_X><Location_Y>104.066</Location_Y><Scale>16</Scale>"
        f"<Label><![CDATA[{label}]]></Label><MsgId>{msg_id}</MsgId>",
    )


def event(sender: str, name: str, key: str = "", create_time: int = 1700000000) -> str:
    key_xml = f"<EventKey><![CDATA[{key}]]></EventKey>" if key else "<EventKey><![CDATA[]]></EventKey>"
    return _xml(sender, create_time, "event", f"<Event><![CDATA[{name}]]></Event>{key_xml}")


def _aes_key() -> bytes:
    return base64.b64decode(AES_KEY + "=")


def encrypt(xml: str, timestamp: str, nonce: str) -> tuple[str, str]:
    """Safe mode: AES-256-CBC(random16 + len + xml + appid), PKCS#7 to 32; returns (body, msg_signature)."""
    raw = xml.encode()
    plain = os.urandom(16) + struct.pack(">I", len(raw)) + raw + APP_ID.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    key = _aes_key()
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    encrypted = base64.b64encode(enc.update(plain) + enc.finalize()).decode()
    signature = sha1_sign(TOKEN, timestamp, nonce, encrypted)
    body = (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    )
    return body, signature


def decrypt(encrypted: str) -> str:
    key = _aes_key()
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = dec.update(base64.b64decode(encrypted)) + dec.finalize()
    plain = plain[: -plain[-1]]
    (length,) = struct.unpack(">I", plain[16:20])
    assert plain[20 + length :].decode() == APP_ID
    return plain[20 : 20 + length].decode()
