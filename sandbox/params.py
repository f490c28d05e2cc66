"""Bot API request parameters: query string, urlencoded, JSON or multipart, coerced like Telegram does."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sandbox.errors import bad_request


@dataclass
class Upload:
    data: bytes
    filename: str | None
    content_type: str | None


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """Merge query string and body into plain values plus uploaded files."""
    values: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.method != "POST" or not request.can_read_body:
        return values, files
    ctype = request.content_type
    if ctype == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise bad_request("can't parse JSON object") from exc
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON object")
        values.update(body)
    elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = Upload(value.file.read(), value.filename, value.content_type)
            else:
                values[key] = value
    return values, files


class Params:
    """Typed access to one request's parameters; every getter raises Telegram's 400 on bad input."""

    def __init__(self, values: dict[str, Any], files: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.files = files or {}

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "") or name in self.files

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) else \
            str(value).lower() if isinstance(value, bool) else str(value)

    def int(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def float(self, name: str, default: float | None = None) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be of type Number') from None

    def bool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return bool(value)
        return str(value).strip().lower() in ("true", "1", "yes")

    def json(self, name: str, what: str | None = None) -> Any:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {what or name} JSON object") from None
        return value

    def chat_id(self) -> int:
        value = self.values.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None

    def message_id(self, name: str = "message_id") -> int:
        if self.values.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        value = self.int(name)
        if value is None:
            raise bad_request("message identifier is not specified")
        return value

    def input_file(self, name: str) -> Upload | str | None:
        """An uploaded file (field or ``attach://``) or a file_id/URL string."""
        if name in self.files:
            return self.files[name]
        value = self.values.get(name)
        return self.resolve_attach(value) if isinstance(value, str) and value else None

    def resolve_attach(self, value: str) -> Upload | str:
        if value.startswith("attach://"):
            upload = self.files.get(value[len("attach://"):])
            if upload is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            return upload
        return value
