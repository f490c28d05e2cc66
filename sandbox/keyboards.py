"""Validation of ``reply_markup`` the way Telegram answers it."""

from __future__ import annotations

from typing import Any

from sandbox.errors import bad_request

_INLINE_ACTIONS = (
    "callback_data", "url", "login_url", "switch_inline_query", "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat", "callback_game", "pay", "web_app", "copy_text",
)
_REPLY_BUTTON_OPTIONS = (
    "request_location", "request_contact", "request_poll", "request_users", "request_chat", "web_app",
)
MAX_BUTTONS = 100


def validate_reply_markup(markup: Any) -> dict[str, Any]:
    """Return the markup unchanged if Telegram would accept it, else raise ``ApiError`` 400."""
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _validate_inline(markup["inline_keyboard"])
    elif "keyboard" in markup:
        _validate_reply(markup["keyboard"])
    elif "remove_keyboard" in markup:
        if markup["remove_keyboard"] is not True:
            raise bad_request("can't parse reply keyboard markup JSON object")
    elif "force_reply" in markup:
        if markup["force_reply"] is not True:
            raise bad_request("can't parse reply keyboard markup JSON object")
    else:
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def _rows(rows: Any, kind: str) -> list[list[Any]]:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request(f"field \"{kind}\" must be an Array of Array")
    if sum(len(r) for r in rows) > MAX_BUTTONS:
        raise bad_request("reply markup is too long")
    return rows


def _validate_inline(rows: Any) -> None:
    for row in _rows(rows, "inline_keyboard"):
        for button in row:
            if not isinstance(button, dict):
                raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
            text = button.get("text")
            if not isinstance(text, str):
                raise bad_request("can't parse inline keyboard button: Can't find field \"text\"")
            if not text.strip():
                raise bad_request("BUTTON_TEXT_INVALID") if text else bad_request("text must be non-empty")
            actions = [a for a in _INLINE_ACTIONS if a in button]
            if not actions:
                raise bad_request("text buttons are unallowed in the inline keyboard")
            if len(actions) > 1:
                raise bad_request("can't parse inline keyboard button: exactly one of the optional fields must "
                                  "be used")
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button:
                url = button["url"]
                if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
                    raise bad_request(f"inline keyboard button URL '{url}' is invalid: Unsupported URL protocol")


def _validate_reply(rows: Any) -> None:
    for row in _rows(rows, "keyboard"):
        for button in row:
            if isinstance(button, str):
                text = button
            elif isinstance(button, dict) and isinstance(button.get("text"), str):
                text = button["text"]
                if sum(1 for o in _REPLY_BUTTON_OPTIONS if button.get(o)) > 1:
                    raise bad_request("can't parse keyboard button: exactly one of the optional fields must be used")
            else:
                raise bad_request("can't parse keyboard button: Can't find field \"text\"")
            if not text:
                raise bad_request("text must be non-empty")


def inline_buttons(markup: dict[str, Any] | None) -> list[dict[str, Any]]:
    """All inline buttons of a stored markup, row by row."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return [b for row in markup["inline_keyboard"] for b in row]
