"""The channels a complaint can come in by ("1+8+N": the hotline, the mini-programs and the message boards all
land in one ledger). Every channel enters the same use-cases; a ticket records its channel."""

from __future__ import annotations

TELEGRAM = "telegram"  # a resident in a private chat with the bot
HOTLINE = "hotline"  # a caller of the 12345 hotline, filed by an operator (代录)
OPEN311 = "open311"  # an Open311 GeoReport v2 client (the client is the ticket's channel_client)
IMPORT = "import"  # a case imported from the hotline's own ledger (the source is the channel_client)

CHANNELS = (TELEGRAM, HOTLINE, OPEN311, IMPORT)

# The stand-in reporter of tickets that no Telegram resident filed (migration 0010 creates them unreachable).
# Telegram user ids are positive, so negative ids can never collide with a real person.
STAND_IN_REPORTER = {HOTLINE: -1, OPEN311: -2, IMPORT: -3}


def reporter_for(channel: str) -> int:
    """The stand-in reporter id of a non-Telegram channel."""
    return STAND_IN_REPORTER[channel]
