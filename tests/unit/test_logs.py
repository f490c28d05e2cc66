"""bot.logs: libraries held back to WARNING, and the token masked in whatever they still log."""

from __future__ import annotations

import logging

from bot.logs import MASK, hold_back_libraries

TOKEN = "123456:secret_half_of_the_token_abcdef"


def test_httpx_is_held_at_warning_and_the_token_is_masked(caplog) -> None:
    hold_back_libraries(TOKEN)
    caplog.set_level(logging.INFO)
    log = logging.getLogger("httpx")
    assert not log.isEnabledFor(logging.INFO)
    log.warning("retrying %s", f"https://api.telegram.org/bot{TOKEN}/getUpdates")
    log.warning("half %s", TOKEN.split(":")[1])
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert TOKEN not in text and TOKEN.split(":")[1] not in text
    assert text.count(MASK) == 2
