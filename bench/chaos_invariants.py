"""What must hold after crash-restart chaos, checked from the database and the emulator's record of delivered
messages only (pure functions over a database path and a list of message dicts, so they fold into any harness).

The emulator record is a list of the bot's messages: ``{"chat_id", "message_id", "text", "edit_count",
"deleted"}`` (text as delivered, HTML parsed). An outbox row of a message-like kind is matched to deliveries by
its chat and the first line of its text as the emulator parses it (``sandbox.entities.parse``, what Telegram
would show): edits of a card (or of the rating's question) change what follows, never the first line.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.invariants import chain_error, ticket_chains
from sandbox.entities import parse

#: Kinds whose delivery is a new message with a text we can find in the record.
TEXT_KINDS = ("message", "card")
#: Final outbox statuses that must carry a reason (last_error); a row without one was dropped silently.
GIVEN_UP = ("dead", "superseded")


@dataclass
class Figures:
    """The chaos run's report: each `*_bad` / `missing` list is empty when the invariant holds."""

    kills: int = 0
    tickets: int = 0
    confirmed: int = 0
    confirmed_missing: list[str] = field(default_factory=list)  # seen confirmed, not in the database
    tickets_unconfirmed: list[str] = field(default_factory=list)  # in the database, never seen confirmed
    filed_twice: list[int] = field(default_factory=list)  # residents with more tickets than confirmations seen
    events: int = 0
    chains_bad: list[str] = field(default_factory=list)  # "number: why"
    outbox_rows: int = 0
    outbox_by_status: dict[str, int] = field(default_factory=dict)
    owed_text_rows: int = 0
    undelivered: list[int] = field(default_factory=list)  # outbox rows 'sent' (or owed) with no delivery found
    duplicates: int = 0
    duplicate_bound: int = 0
    dropped_silently: list[int] = field(default_factory=list)
    still_pending: list[int] = field(default_factory=list)
    drafts_at_kills: int = 0
    drafts_lost: list[int] = field(default_factory=list)
    #: "chat: row a before row b": b was queued while a was due, yet b's message came first
    out_of_order: list[str] = field(default_factory=list)
    #: answers 429 from the emulator's Telegram-like flood limits (when switched on)
    flood_429: int = 0
    #: the scheduled sweep, counted from the instances' logs (`count_sweeps`; interval 0: not counted)
    sweep_interval_s: float = 0
    sweep_runs: int = 0
    sweep_expected: int = 0
    sweep_too_close: int = 0  # two runs less than half an interval apart: it ran twice in one interval
    sweep_longest_gap_s: float = 0.0

    @property
    def sweep_ok(self) -> bool:
        """Once per interval: twice in one only right after a kill (the dead leader swept, the follower took over
        at its next tick, sooner than a full interval later: at most one such early run per kill; the sweep is
        idempotent), and never a gap longer than one failover (an interval for the follower's next tick, one
        more for the run) plus a few seconds of process start."""
        return not self.sweep_interval_s or (
            self.sweep_runs > 0 and self.sweep_too_close <= self.kills
            and self.sweep_longest_gap_s <= 2 * self.sweep_interval_s + 5)

    @property
    def ok(self) -> bool:
        return not (self.confirmed_missing or self.tickets_unconfirmed or self.filed_twice or self.chains_bad
                    or self.undelivered or self.dropped_silently or self.still_pending or self.drafts_lost
                    or self.duplicates > self.duplicate_bound or self.out_of_order or self.flood_429
                    or not self.sweep_ok)

    def count_sweeps(self, runs: list[float], interval_s: float) -> None:
        """Fold in when the scheduled sweep ran (epoch seconds, any instance)."""
        self.sweep_interval_s = interval_s
        self.sweep_runs = len(runs)
        gaps = [b - a for a, b in itertools.pairwise(runs)]
        self.sweep_too_close = sum(1 for g in gaps if g < interval_s / 2)
        self.sweep_longest_gap_s = max(gaps, default=0.0)
        self.sweep_expected = int((runs[-1] - runs[0]) // interval_s) + 1 if runs else 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    def lines(self) -> list[str]:
        """The report, one figure a line."""
        def n(items: list[Any]) -> str:
            return str(len(items)) + (f" {items[:5]}" if items else "")

        return [
            f"kills (SIGKILL, restarted)          {self.kills}",
            f"tickets in the database             {self.tickets}",
            f"tickets residents saw confirmed     {self.confirmed}",
            f"  confirmed but missing             {n(self.confirmed_missing)}",
            f"  in the database, never confirmed  {n(self.tickets_unconfirmed)}",
            f"  residents who filed twice         {n(self.filed_twice)}",
            f"events / invalid lifecycle chains   {self.events} / {n(self.chains_bad)}",
            f"outbox rows                         {self.outbox_rows} {self.outbox_by_status}",
            f"  owed messages / undelivered       {self.owed_text_rows} / {n(self.undelivered)}",
            f"  duplicate deliveries / bound      {self.duplicates} / {self.duplicate_bound}",
            f"  dropped silently / still pending  {n(self.dropped_silently)} / {n(self.still_pending)}",
            f"drafts at kills / not resumed       {self.drafts_at_kills} / {n(self.drafts_lost)}",
            f"replies out of order                {n(self.out_of_order)}",
            f"429 under the flood limits          {self.flood_429}",
            *([f"sweeps run / intervals / twice in one / longest gap  {self.sweep_runs} / {self.sweep_expected}"
               f" / {self.sweep_too_close} / {self.sweep_longest_gap_s:.1f} s (interval {self.sweep_interval_s:g} s)"]
              if self.sweep_interval_s else []),
            f"all invariants hold                 {'yes' if self.ok else 'NO'}",
        ]


def check(db: Path | str, record: list[dict[str, Any]], *, kills: int, drafts_at_kills: Iterable[set[int]] = (),
          confirmed: Mapping[int, set[str]] | None = None, concurrency: int | None = None) -> Figures:
    """Every invariant at once. `db`: a SQLite file or a PostgreSQL URL; `confirmed`: resident id -> ticket
    numbers that resident saw confirmed; `concurrency`: how many rows the sender has in flight at most (default:
    the sender's own figure)."""
    if concurrency is None:
        from scheduler.outbox import CHATS_AT_ONCE

        concurrency = CHATS_AT_ONCE
    figures = Figures(kills=kills, duplicate_bound=kills * concurrency)
    with _reading(db) as c:
        check_tickets(c, figures, confirmed or {})
        check_chains(c, figures)
        check_outbox(c, figures, record)
        check_drafts(c, figures, list(drafts_at_kills))
    return figures


@contextlib.contextmanager
def _reading(db: Path | str) -> Iterator[Any]:
    """A connection with the repositories' spelling (``?`` parameters, rows by name) on either backend."""
    if isinstance(db, str) and db.startswith("postgresql"):
        import psycopg

        from storage.pg import PgConnection, _configure

        with psycopg.connect(db) as raw:
            _configure(raw)
            try:
                yield PgConnection(raw)
            finally:
                raw.rollback()
        return
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as c:
        c.row_factory = sqlite3.Row
        yield c


def check_tickets(c: sqlite3.Connection, f: Figures, confirmed: Mapping[int, set[str]]) -> None:
    """Every ticket a resident saw confirmed exists exactly once, and nobody's complaint became two."""
    rows = c.execute("SELECT number, reporter_id FROM tickets").fetchall()
    f.tickets = len(rows)
    numbers = Counter(r["number"] for r in rows)
    seen = {number: who for who, found in confirmed.items() for number in found}
    f.confirmed = len(seen)
    f.confirmed_missing = sorted(n for n in seen if numbers[n] != 1)
    if confirmed:
        f.tickets_unconfirmed = sorted(r["number"] for r in rows if r["number"] not in seen)
        per_reporter = Counter(r["reporter_id"] for r in rows)
        f.filed_twice = sorted(who for who, count in per_reporter.items()
                               if who in confirmed and count > len(confirmed[who]))


def check_chains(c: sqlite3.Connection, f: Figures) -> None:
    for number, state, chain in ticket_chains(c).values():
        f.events += len(chain)
        why = chain_error(chain, state)
        if why:
            f.chains_bad.append(f"{number}: {why}")


def delivered_text(payload: Mapping[str, Any]) -> str:
    """The text an outbox payload shows once Telegram (here: the emulator's parser) has read its markup."""
    text, _ = parse(str(payload.get("text", "")), payload.get("parse_mode"))
    return text


def _head(text: str) -> str:
    """A message's first line: what an edit of a card or of the rating's question leaves as it was."""
    return text.split("\n", 1)[0]


def check_outbox(c: sqlite3.Connection, f: Figures, record: list[dict[str, Any]]) -> None:
    """Every owed message delivered at least once, duplicates counted, nothing dropped without a reason."""
    rows = c.execute("SELECT id, chat_id, kind, payload, status, last_error, sent_message_id, not_before, "
                     "created_at FROM outbox ORDER BY id").fetchall()
    f.outbox_rows = len(rows)
    f.outbox_by_status = dict(Counter(r["status"] for r in rows))
    delivered = Counter((m["chat_id"], _head(m["text"])) for m in record)
    owed: Counter[tuple[int, str]] = Counter()
    by_id = {(m["chat_id"], m["message_id"]) for m in record}
    for r in rows:
        if r["status"] in GIVEN_UP:
            if not r["last_error"]:
                f.dropped_silently.append(r["id"])
            continue
        if r["status"] == "pending":
            if due_now([r["not_before"]]):  # a row held for later on purpose (quiet hours) is not owed yet
                f.still_pending.append(r["id"])
            continue
        if r["kind"] in TEXT_KINDS:
            key = (r["chat_id"], _head(delivered_text(json.loads(r["payload"]))))
            owed[key] += 1
            f.owed_text_rows += 1
            if (r["chat_id"], r["sent_message_id"]) not in by_id:
                f.undelivered.append(r["id"])
    check_order(f, [r for r in rows if r["status"] == "sent" and r["kind"] in TEXT_KINDS
                    and r["sent_message_id"] is not None])
    for key, count in owed.items():
        if delivered[key] < count and not f.undelivered:
            f.undelivered.append(-1)  # fewer copies than rows although every row points at a message
        f.duplicates += max(0, delivered[key] - count)


def check_order(f: Figures, sent: list[Any]) -> None:
    """Each chat's replies in the order they were queued: when row b was queued while an earlier row a of the
    same chat was already due, a's message must come before b's (a row held for later on purpose is not owed
    first). Message ids grow in a chat, so the ids the rows were delivered as tell the order."""
    by_chat: dict[int, list[Any]] = {}
    for r in sent:
        by_chat.setdefault(r["chat_id"], []).append(r)
    for chat, rows in by_chat.items():
        for i, a in enumerate(rows):
            for b in rows[i + 1:]:
                if a["not_before"] <= b["created_at"] and a["sent_message_id"] > b["sent_message_id"]:
                    f.out_of_order.append(f"{chat}: row {a['id']} before row {b['id']}")


def due_now(not_before: Iterable[str]) -> bool:
    """Whether any of these stored `not_before` times has come."""
    now = datetime.now(UTC)
    return any(datetime.fromisoformat(t) <= now for t in not_before)


def check_drafts(c: sqlite3.Connection, f: Figures, drafts_at_kills: list[set[int]]) -> None:
    """Every draft saved before a kill was resumed: its resident has a ticket now, or is still at the draft."""
    users = set().union(*drafts_at_kills) if drafts_at_kills else set()
    f.drafts_at_kills = sum(len(d) for d in drafts_at_kills)
    with_ticket = {r[0] for r in c.execute("SELECT DISTINCT reporter_id FROM tickets")}
    with_draft = {r[0] for r in c.execute("SELECT user_id FROM drafts")}
    f.drafts_lost = sorted(users - with_ticket - with_draft)
