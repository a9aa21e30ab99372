"""WeChat's XML at the edge: a pushed message read strictly, a passive reply built by escaping.

Everything in a message comes from outside (a replayed or forged body is signed in plain mode), so
a message without a sender, a message type or a sane CreateTime is malformed, not a turn. Replies are
built by ElementTree, which escapes the text it writes: a staff note containing `]]></Content>`
stays text (wechatpy's replies paste values into CDATA templates, which such a note breaks out of).
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from wechatpy import parse_message

from core.errors import ChannelError

MAX_CREATE_TIME = 2**32  # seconds since 1970, as WeChat sends them (an unsigned 32-bit field)
MAX_FIELD = 4096  # characters in an identifier-like field (openid, MsgId, MediaId)
# Characters XML 1.0 cannot carry at all (escaping does not help): dropped from replies.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class MalformedMessage(ChannelError):
    """A signed body that is not a message we can take (a 400, never a turn)."""


def read_message(xml: str) -> tuple[Any, datetime]:
    """The parsed message and its CreateTime (naive UTC), or MalformedMessage."""
    if not xml.strip():
        raise MalformedMessage("empty body")
    try:
        message = parse_message(xml)
        source = message.source
        raw_time = message._data.get("CreateTime")
        msg_type = message.type
    except Exception as err:  # noqa: BLE001 - expat, xmltodict and wechatpy raise many kinds
        raise MalformedMessage(f"unparsable ({type(err).__name__})") from None
    if not isinstance(source, str) or not source.strip() or len(source) > MAX_FIELD:
        raise MalformedMessage("no sender")
    if not isinstance(msg_type, str) or not msg_type:
        raise MalformedMessage("no message type")
    if not isinstance(raw_time, str) or not (raw_time.strip().isascii() and raw_time.strip().isdigit()):
        raise MalformedMessage("bad CreateTime")
    seconds = int(raw_time)
    if seconds >= MAX_CREATE_TIME:
        raise MalformedMessage("bad CreateTime")
    if getattr(message, "id", None) is not None and len(str(message.id)) > MAX_FIELD:
        raise MalformedMessage("bad MsgId")
    return message, datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def text_reply(to_user: str, from_user: str, text: str, now: float | None = None) -> str:
    """A passive text reply; every value escaped by the XML library."""
    root = ET.Element("xml")
    fields = (
        ("ToUserName", to_user),
        ("FromUserName", from_user),
        ("CreateTime", str(int(time.time() if now is None else now))),
        ("MsgType", "text"),
        ("Content", text),
    )
    for tag, value in fields:
        ET.SubElement(root, tag).text = _NOT_XML.sub("", value)
    return ET.tostring(root, encoding="unicode")
