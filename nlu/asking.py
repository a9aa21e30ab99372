"""Is a message asking whether (or where) a service exists — 「有没有送饭的」「哪里可以托管娃儿」 — rather
than reporting a problem? A pure rule over normalized text; the resource list answers it."""

from __future__ import annotations

import re

MAX_CHARS = 24  # longer messages are stories and complaints, not a quick question
# 「有没有…」 asks for a thing; 「有没有人…」 asks someone to act (a report), and a few set phrases are not asks.
_WHETHER = re.compile(r"(有没有|有没得|有莫得|有冇|有无|有哪些|有什么)(?!人|办法|搞错|用|问题|事|必要)")
_WHERE = re.compile(
    r"(哪里|哪儿|哪点|哪个地方|什么地方|啥子地方|啥地方|去哪|到哪)(可以|能|有|找|办|去|能够|提供)"
)
_NOT_ASKING = re.compile(r"(坏了|漏|堵|吵|不亮|没人管|占了|打架|摔|救命|着火|不见了)")


def asks_for_service(text: str) -> bool:
    """True for a short question about where or whether a service can be had."""
    t = re.sub(r"\s+", "", text or "")
    if not t or len(t) > MAX_CHARS or _NOT_ASKING.search(t):
        return False
    return bool(_WHETHER.search(t) or _WHERE.search(t))
