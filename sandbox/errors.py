"""The one exception the emulator raises to answer a Bot API call with a Telegram-shaped error."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer: ``{"ok": false, "error_code": code, "description": ..., "parameters": ...}``."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str, parameters: dict[str, Any] | None = None) -> ApiError:
    """400 with Telegram's ``Bad Request: `` prefix."""
    return ApiError(400, f"Bad Request: {reason}", parameters)


def forbidden(reason: str) -> ApiError:
    """403 with Telegram's ``Forbidden: `` prefix."""
    return ApiError(403, f"Forbidden: {reason}")
