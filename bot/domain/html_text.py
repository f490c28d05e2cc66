"""Telegram HTML texts that must fit a message: split at line boundaries, cut only where it is safe.

Telegram refuses a whole message whose HTML is broken, so a text is never cut inside a tag (``<b>``), inside an
entity (``&amp;``) or with a tag left open. Lines are the unit of splitting: every line of ours is a complete HTML
fragment (catalogue markup around escaped values).
"""

from __future__ import annotations

import re

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*>")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
ELLIPSIS = "…"


def cut_html(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters; otherwise its longest prefix that ends outside any tag or
    entity, with an ellipsis and the tags still open closed again, all within ``limit``."""
    if len(text) <= limit:
        return text
    open_tags: list[str] = []
    best = ""
    pos = 0
    while pos < len(text):
        tag, entity = _TAG.match(text, pos), _ENTITY.match(text, pos)
        token = (tag or entity).group(0) if (tag or entity) else text[pos]
        closing = "".join(f"</{name}>" for name in reversed(open_tags))
        if pos + len(token) + len(ELLIPSIS) + len(closing) + _closing_growth(tag) > limit:
            break
        pos += len(token)
        if tag and tag.group(1):
            if open_tags and open_tags[-1] == tag.group(2).lower():
                open_tags.pop()
        elif tag:
            open_tags.append(tag.group(2).lower())
        best = text[:pos] + ELLIPSIS + "".join(f"</{name}>" for name in reversed(open_tags))
    return best or ELLIPSIS[:limit]


def _closing_growth(tag: re.Match[str] | None) -> int:
    """Characters an opening tag adds to the closing tags needed after it."""
    return len(tag.group(2)) + 3 if tag and not tag.group(1) else 0


def split_message(lines: list[str], limit: int, continued: str = "") -> list[str]:
    """Join lines into messages of at most ``limit`` characters, never splitting a line (a longer line is cut
    safely by :func:`cut_html`). ``continued``, if given, opens every message after the first."""
    head = [continued] if continued else []
    room = limit - (len(continued) + 1 if continued else 0)
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        line = cut_html(line, room)
        extra = len(line) + (1 if current else 0)
        if current and size + extra > limit:
            parts.append("\n".join(current).strip("\n"))
            current, size = list(head), len(continued)
            extra = len(line) + (1 if current else 0)
        current.append(line)
        size += extra
    if current:
        parts.append("\n".join(current).strip("\n"))
    return parts
