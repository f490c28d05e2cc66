"""What the repositories return: plain, typed records (no behaviour beyond small conveniences)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bot.domain.lifecycle import OPEN_STATES, TicketState


def to_db(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def from_db(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class User:
    id: int
    language: str
    reachable: bool


@dataclass(frozen=True)
class Photo:
    """A picture of a draft or a ticket: a Telegram file id, or our own EXIF-free bytes, or both."""

    position: int
    source: str  # "photo" | "document"
    file_id: str | None
    file_unique_id: str | None
    data: bytes | None
    width: int | None
    height: int | None
    media_group_id: str | None = None


@dataclass(frozen=True)
class Draft:
    user_id: int
    id: str
    step: str
    editing: bool
    category: str | None
    lat: float | None
    lon: float | None
    location_source: str | None
    place_key: str | None
    place_text: str | None
    description: str | None
    photo_count: int
    created_at: datetime
    updated_at: datetime
    channel: str = "telegram"  # hotline: an operator's call for a caller (bot.domain.channels)
    caller_phone: str | None = None
    caller_name: str | None = None

    @property
    def is_call(self) -> bool:
        return self.channel != "telegram"

    @property
    def has_location(self) -> bool:
        return self.location_source not in (None, "none")


@dataclass(frozen=True)
class Ticket:
    id: int
    number: str
    state: TicketState
    version: int
    category: str
    reporter_id: int
    description: str
    lat: float | None
    lon: float | None
    location_source: str
    place_key: str | None
    place_text: str | None
    district: str | None
    unit: str | None
    deadline_class: str
    sign_due_at: datetime | None
    due_at: datetime | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    zone: str | None = None
    route_reason: str | None = None
    lead: bool = False
    bounces: int = 0
    escalated: bool = False
    reopen_count: int = 0
    sensitive: str | None = None
    dispatched_at: datetime | None = None
    first_dispatched_at: datetime | None = None
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    answer: str | None = None
    rating: str | None = None
    signed_on_time: bool | None = None
    resolved_on_time: bool | None = None
    deadline_provisional: bool = False
    merged_into: int | None = None  # the ticket this duplicate was merged into (state merged)
    solved: str | None = None  # the rating's answers (bot.domain.rating); None on older ratings
    satisfaction: str | None = None
    channel: str = "telegram"  # bot.domain.channels
    channel_client: str | None = None  # the Open311 client or the imported ledger's source

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


TICKET_TIMES = ("sign_due_at", "due_at", "created_at", "updated_at", "closed_at", "dispatched_at",
                "first_dispatched_at", "accepted_at", "resolved_at")
TICKET_FLAGS = ("lead", "escalated", "deadline_provisional")


@dataclass(frozen=True)
class Event:
    id: int
    ticket_id: int
    at: datetime
    actor_kind: str
    actor_id: int | None
    action: str
    from_state: str | None
    to_state: str | None
    unit: str | None
    reason: str | None
    public: bool


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    chat_id: int
    kind: str
    payload: dict
    ticket_id: int | None
    attempts: int
    not_before: datetime
