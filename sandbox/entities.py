"""Formatted text → plain text + MessageEntity list, the way Telegram parses ``parse_mode``.

Offsets and lengths are in UTF-16 code units, as in the Bot API. Malformed markup raises
``ApiError`` 400 "Bad Request: can't parse entities: ..." so a bot's escaping bugs surface in tests.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.errors import ApiError, bad_request

Entity = dict[str, Any]

_HTML_TAGS: dict[str, str] = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (what Telegram counts for entity offsets)."""
    return len(text.encode("utf-16-le")) // 2


def _cant_parse(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def parse(text: str, parse_mode: str | None) -> tuple[str, list[Entity]]:
    """Parse ``text`` according to ``parse_mode`` (None/"" = plain)."""
    mode = (parse_mode or "").lower()
    if not mode:
        return text, []
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown(text, v2=True)
    if mode == "markdown":
        return parse_markdown(text, v2=False)
    raise bad_request(f"unsupported parse_mode \"{parse_mode}\"")


class _Builder:
    """Accumulates output text and entities, tracking the UTF-16 position."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.entities: list[Entity] = []

    def add(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.pos += utf16_len(chunk)

    def close(self, etype: str, start: int, extra: dict[str, Any] | None = None) -> None:
        if self.pos > start:
            entity: Entity = {"type": etype, "offset": start, "length": self.pos - start}
            entity.update(extra or {})
            self.entities.append(entity)

    def result(self) -> tuple[str, list[Entity]]:
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), self.entities


_ATTR = re.compile(r'\s*([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|([^\s>]+))')


def _parse_attrs(raw: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for m in _ATTR.finditer(raw):
        attrs[m.group(1).lower()] = _unescape(next(g for g in m.groups()[1:] if g is not None))
    return attrs


def _unescape(value: str) -> str:
    return re.sub(r"&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot);", lambda m: _entity_char(m.group(1)), value)


def _entity_char(name: str) -> str:
    if name.startswith("#x"):
        return chr(int(name[2:], 16))
    if name.startswith("#"):
        return chr(int(name[1:]))
    return _NAMED_ENTITIES[name]


def parse_html(text: str) -> tuple[str, list[Entity]]:
    """Telegram's HTML subset: known tags only, properly nested, ``&lt; &gt; &amp; &quot;`` + numeric."""
    out = _Builder()
    stack: list[tuple[str, str, int, dict[str, Any]]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "&":
            m = re.match(r"&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);", text[i:])
            if m and (m.group(1).startswith("#") or m.group(1) in _NAMED_ENTITIES):
                out.add(_entity_char(m.group(1)))
                i += m.end()
                continue
            out.add(ch)
            i += 1
            continue
        if ch != "<":
            out.add(ch)
            i += 1
            continue
        end = text.find(">", i)
        if end < 0:
            raise _cant_parse(f"Unclosed start tag at byte offset {_byte_offset(text, i)}")
        inner = text[i + 1 : end]
        if inner.startswith("/"):
            name = inner[1:].strip().lower()
            if not stack:
                raise _cant_parse(f"Unexpected end tag at byte offset {_byte_offset(text, i)}")
            open_name, etype, start, extra = stack.pop()
            if name != open_name:
                raise _cant_parse(
                    f'Unmatched end tag at byte offset {_byte_offset(text, i)}, expected "</{open_name}>", '
                    f'found "</{name}>"'
                )
            _close_html(out, stack, open_name, etype, start, extra)
            i = end + 1
            continue
        m = re.match(r"([a-zA-Z][a-zA-Z0-9-]*)(.*)$", inner, re.S)
        name = m.group(1).lower() if m else ""
        if name not in _HTML_TAGS:
            raise _cant_parse(f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, i)}')
        attrs = _parse_attrs(m.group(2) if m else "")
        etype, extra = _HTML_TAGS[name], {}
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _cant_parse(f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, i)}')
        if name == "a":
            href = attrs.get("href", "")
            user = re.match(r"tg://user\?id=(\d+)$", href)
            etype, extra = ("text_mention", {"user": {"id": int(user.group(1)), "is_bot": False,
                                                     "first_name": ""}}) if user else ("text_link", {"url": href})
        elif name == "code":
            extra = {"language": attrs["class"][9:]} if attrs.get("class", "").startswith("language-") else {}
        elif name == "blockquote" and "expandable" in (m.group(2) if m else ""):
            etype = "expandable_blockquote"
        elif name == "tg-emoji":
            extra = {"custom_emoji_id": attrs.get("emoji-id", "")}
        stack.append((name, etype, out.pos, extra))
        i = end + 1
    if stack:
        raise _cant_parse(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


def _close_html(out: _Builder, stack: list[tuple[str, str, int, dict[str, Any]]], name: str, etype: str,
                start: int, extra: dict[str, Any]) -> None:
    # <pre><code class="language-x">…</code></pre> is one pre entity with a language.
    if name == "code" and stack and stack[-1][0] == "pre" and extra.get("language"):
        stack[-1][3]["language"] = extra["language"]
        return
    if name == "code":
        extra = {}
    out.close(etype, start, extra)


_MD_V2_MARKERS = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}
_MD_V1_MARKERS = {"*": "bold", "_": "italic"}


def parse_markdown(text: str, *, v2: bool) -> tuple[str, list[Entity]]:
    """MarkdownV2 (reserved characters must be escaped) or legacy Markdown."""
    markers = _MD_V2_MARKERS if v2 else _MD_V1_MARKERS
    out = _Builder()
    open_: dict[str, tuple[int, int]] = {}  # marker -> (utf16 start, source index)
    link_start: tuple[int, int] | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and (v2 or text[i + 1] in "_*`["):
            out.add(text[i + 1])
            i += 2
            continue
        if ch == "`":
            i = _md_code(text, i, out, v2)
            continue
        marker = text[i : i + 2] if text[i : i + 2] in markers else ch if ch in markers else None
        if marker is not None:
            if marker in open_:
                start, _ = open_.pop(marker)
                out.close(markers[marker], start)
            else:
                open_[marker] = (out.pos, i)
            i += len(marker)
            continue
        if ch == "[" and link_start is None:
            link_start = (out.pos, i)
            i += 1
            continue
        if ch == "]" and link_start is not None and text[i + 1 : i + 2] == "(":
            url, i = _md_url(text, i + 2)
            out.close("text_link", link_start[0], {"url": url})
            link_start = None
            continue
        if v2 and ch in _MDV2_RESERVED:
            raise _cant_parse(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")
        out.add(ch)
        i += 1
    pending = [src for _, src in open_.values()] + ([link_start[1]] if link_start else [])
    if pending:
        raise _cant_parse(f"Can't find end of the entity starting at byte offset {_byte_offset(text, min(pending))}")
    return out.result()


def _md_code(text: str, i: int, out: _Builder, v2: bool) -> int:
    fence = "```" if text.startswith("```", i) else "`"
    body_start = i + len(fence)
    j = body_start
    chunk: list[str] = []
    while j < len(text) and not text.startswith(fence, j):
        if v2 and text[j] == "\\" and j + 1 < len(text):
            chunk.append(text[j + 1])
            j += 2
            continue
        chunk.append(text[j])
        j += 1
    if j >= len(text):
        raise _cant_parse(f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}")
    body, extra = "".join(chunk), {}
    if fence == "```":
        first, sep, rest = body.partition("\n")
        if sep and first and " " not in first:
            body, extra = rest, {"language": first}
    start = out.pos
    out.add(body)
    out.close("pre" if fence == "```" else "code", start, extra)
    return j + len(fence)


def _md_url(text: str, i: int) -> tuple[str, int]:
    chars: list[str] = []
    while i < len(text) and text[i] != ")":
        if text[i] == "\\" and i + 1 < len(text):
            i += 1
        chars.append(text[i])
        i += 1
    if i >= len(text):
        raise _cant_parse("Can't find end of a URL")
    return "".join(chars), i + 1


def command_entities(text: str) -> list[Entity]:
    """A leading ``/command`` or ``/command@bot`` becomes a ``bot_command`` entity, as Telegram does."""
    m = _COMMAND.match(text)
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(m.group(0))}] if m else []
