"""What the log may carry (SECURITY.md): no message text, names or phone numbers at INFO, and never the token.

Our own log lines name tickets, chats and outbox rows by number only. Libraries are held back here, wherever the
bot runs (the CLI, the sandbox, tests): httpx logs every request URL at INFO and the Bot API URL holds the token,
so it stays at WARNING, and whatever it still logs has the token masked.
"""

from __future__ import annotations

import logging

#: Loggers kept at WARNING: httpx (URLs with the token), APScheduler (every job run), aiohttp's access log (the
#: emulator's and the web chat's request lines).
QUIET = ("httpx", "httpcore", "apscheduler", "aiohttp.access")
MASK = "<token>"


class TokenMask(logging.Filter):
    """Replaces the bot token (and its secret half) in a record's message with `MASK`."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.secrets = tuple(s for s in (token, token.partition(":")[2]) if len(s) >= 8)

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if any(s in text for s in self.secrets):
            for s in self.secrets:
                text = text.replace(s, MASK)
            record.msg, record.args = text, None
        return True


def hold_back_libraries(token: str | None = None) -> None:
    for name in QUIET:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
        if token and not any(isinstance(f, TokenMask) and f.secrets[0] == token for f in logger.filters):
            logger.addFilter(TokenMask(token))
