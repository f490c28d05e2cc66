"""What must hold after any run that misbehaved (injected faults, kills and restarts), checked from the database
and from the emulator's record of what was delivered. Shared by the fault run (bench/fault_run.py, its test and
bench/faults_bench.py) and the crash-restart chaos run.

The checks take plain data so that a run with the bot in another process can use them too:

- ``conn``: a sqlite3 connection to the bot's database (read only; ``sqlite3.Row`` rows not needed);
- ``delivered``: the emulator's messages, ``{chat_id: [transcript entry, ...]}`` as ``/_control/messages``
  answers (``collect_delivered`` gathers it through the control API);
- ``residents``: the private chat ids of the scripted residents whose confirmations count.

Each check appends human-readable violations to the report and sets figures; ``InvariantReport.ok`` is True when
there are no violations. A notification the outbox owed counts as delivered when its row is ``sent`` and the
emulator holds the message it names, and as given up when its row is ``dead`` with one of the reasons below;
anything else (a row still due but not sent, a dead row without a reason, a sent row the emulator never saw) is
a violation.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.lifecycle import SPEC, TicketState, TransitionRefused, plan
from storage.records import to_db

#: The confirmation a resident reads names the ticket as "工单编号：123 456 789" (or the English equivalent).
_NUMBER = re.compile(r"\b(\d{3} \d{3} \d{3})\b")
#: Outbox kinds that put a new message in the chat (their `sent_message_id` is that message).
SENDING_KINDS = frozenset({"message", "card", "location", "venue", "photo", "photos", "photo_file", "document_file"})
#: Outbox kinds that change a message already there.
EDITING_KINDS = frozenset({"edit_card", "drop_buttons"})
_EVENTS_BY_NAME: dict[str, list[Any]] = {}
for _transition in SPEC.values():
    _EVENTS_BY_NAME.setdefault(_transition.event, []).append(_transition)


@dataclass
class InvariantReport:
    violations: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations

    def fail(self, message: str) -> None:
        self.violations.append(message)

    def format(self, limit: int = 20) -> str:
        lines = [f"  {key}: {value}" for key, value in self.figures.items()]
        lines.append(f"  violations: {len(self.violations)}")
        lines += [f"    - {v}" for v in self.violations[:limit]]
        if len(self.violations) > limit:
            lines.append(f"    … and {len(self.violations) - limit} more")
        return "\n".join(lines)


def dead_reason(row: Mapping[str, Any], max_attempts: int) -> str | None:
    """Why a dead row was given up, as a class for the report; None if the reason does not explain it."""
    error = row["last_error"] or ""
    lowered = error.lower()
    if not error:
        return None
    if error.startswith("403 "):
        return "blocked"
    if "never sent" in error or "picture is gone" in error:
        return "its message never went"
    if row["attempts"] >= max_attempts:
        return "max attempts"
    if error.startswith("edit of a message left behind in a migrated group") or (
            error.startswith("400 ") and "message to edit not found" in lowered):
        return "edit of a message left behind in a migrated group"
    if error.startswith("400 ") and "chat not found" in lowered:
        return "chat not found"
    return None


def check_confirmations(conn: sqlite3.Connection, delivered: Mapping[int, Sequence[Mapping[str, Any]]],
                        residents: Iterable[int], marker: str, report: InvariantReport) -> None:
    """Every ticket a resident saw confirmed (a message containing ``marker`` and a number) exists exactly once,
    reported by that resident; and no resident has two tickets for one filing (same category and description)."""
    seen, copies = 0, 0
    residents = list(residents)
    for resident in residents:
        numbers = Counter(found.group(1).replace(" ", "")
                          for m in delivered.get(resident, ()) if m.get("outgoing")
                          and marker in (m.get("text") or "") for found in [_NUMBER.search(m.get("text") or "")]
                          if found)
        seen += len(numbers)
        copies += sum(n - 1 for n in numbers.values())
        for number in numbers:
            rows = conn.execute("SELECT reporter_id FROM tickets WHERE number = ?", (number,)).fetchall()
            if len(rows) != 1:
                report.fail(f"resident {resident} saw ticket {number} confirmed; it exists {len(rows)} times")
            elif rows[0][0] != resident:
                report.fail(f"ticket {number} confirmed to {resident} is reported by {rows[0][0]}")
    placeholders = ",".join("?" * len(residents)) or "NULL"
    twice = conn.execute(
        f"SELECT reporter_id, COUNT(*) FROM tickets WHERE reporter_id IN ({placeholders}) "
        "GROUP BY reporter_id, category, description HAVING COUNT(*) > 1", residents).fetchall()
    for reporter, count in twice:
        report.fail(f"resident {reporter} filed once but has {count} tickets")
    report.figures["confirmations seen"] = seen
    report.figures["duplicate confirmation copies"] = copies


def chain_error(events: Sequence[tuple[str, str | None, str | None]], final: str) -> str | None:
    """Why a ticket's events (action, from, to; in order) are not a walk of the lifecycle ending in `final`;
    None when they are. Events without a to-state (notes: followed, escalated …) are not moves; each move is a row
    of the specification applied to the state the previous one left (``plan``, as a lead unit or not)."""
    moves = [(a, fr, to) for a, fr, to in events if to is not None]
    if not moves or moves[0][0] != "registered" or moves[0][1] is not None or moves[0][2] != TicketState.REGISTERED:
        return "does not start with registered"
    state: str = TicketState.REGISTERED
    for action, from_state, to_state in moves[1:]:
        if from_state != state:
            return f"{action} from {from_state}, but the ticket was {state}"
        if not _valid_move(action, from_state, to_state):
            return f"{action}: {from_state} -> {to_state} is no row of the specification"
        state = to_state  # type: ignore[assignment]
    if state != final:
        return f"events end in {state}, the ticket is {final}"
    return None


def ticket_chains(conn: sqlite3.Connection) -> dict[int, tuple[str, str, list[tuple[str, str | None, str | None]]]]:
    """{ticket id: (number, state, its events in order)} in two scans."""
    chains = {row[0]: (row[1], row[2], []) for row in conn.execute("SELECT id, number, state FROM tickets")}
    for ticket_id, action, from_state, to_state in conn.execute(
            "SELECT ticket_id, action, from_state, to_state FROM events ORDER BY at, id"):
        chains.setdefault(ticket_id, (f"#{ticket_id}", "?", []))[2].append((action, from_state, to_state))
    return chains


def check_event_chains(conn: sqlite3.Connection, report: InvariantReport) -> None:
    """Every ticket's events are a walk of the lifecycle (`chain_error`)."""
    chains = ticket_chains(conn)
    for number, state, events in chains.values():
        why = chain_error(events, state)
        if why:
            report.fail(f"ticket {number}: {why}")
    report.figures["tickets"] = len(chains)
    report.figures["events walked"] = sum(len(events) for _, _, events in chains.values())
    report.figures["ticket states"] = dict(Counter(state for _, state, _ in chains.values()))


def _valid_move(event: str, from_state: str | None, to_state: str | None) -> bool:
    if from_state is None or to_state is None:
        return False
    for transition in _EVENTS_BY_NAME.get(event, ()):
        for is_lead in (False, True):
            try:
                if plan(from_state, transition.action, is_lead=is_lead).to_state == to_state:
                    return True
            except (TransitionRefused, ValueError):
                continue
    return False


def check_outbox(conn: sqlite3.Connection, delivered: Mapping[int, Sequence[Mapping[str, Any]]], now: datetime,
                 max_attempts: int, report: InvariantReport, migrated: Mapping[int, int] | None = None) -> None:
    """Every row is sent (and the emulator holds its message), superseded by a newer edit, given up with a reason
    that explains it, or pending but not due yet. ``migrated`` maps a basic group to the supergroup it became:
    the emulator keeps the messages sent before the move under the old id."""
    migrated = migrated or {}
    present = {(chat_id, m["message_id"]) for chat_id, messages in delivered.items() for m in messages
               if m.get("outgoing")}

    def holds(chat_id: int, message_id: int) -> bool:
        old = [o for o, n in migrated.items() if n == chat_id]
        return any((c, message_id) in present for c in (chat_id, *old))

    rows = conn.execute("SELECT id, chat_id, kind, payload, status, attempts, last_error, not_before, "
                        "sent_message_id, created_at, sent_at FROM outbox ORDER BY id").fetchall()
    cols = ("id", "chat_id", "kind", "payload", "status", "attempts", "last_error", "not_before",
            "sent_message_id", "created_at", "sent_at")
    statuses: Counter[str] = Counter()
    given_up: Counter[str] = Counter()
    retried = retries = 0
    for values in rows:
        row = dict(zip(cols, values, strict=True))
        statuses[row["status"]] += 1
        if row["status"] == "sent":
            retries += max(0, row["attempts"] - 1)
            retried += row["attempts"] > 1
            if row["kind"] in SENDING_KINDS and row["sent_message_id"] is not None:
                if not holds(row["chat_id"], row["sent_message_id"]):
                    report.fail(f"outbox row {row['id']} ({row['kind']}) is sent as message "
                                f"{row['sent_message_id']} in {row['chat_id']}, which the emulator never saw")
            elif row["kind"] in EDITING_KINDS:
                target = json.loads(row["payload"]).get("message_id")
                if target is not None and not holds(row["chat_id"], int(target)):
                    report.fail(f"outbox row {row['id']} edited message {target} in {row['chat_id']}: not there")
        elif row["status"] == "dead":
            reason = dead_reason(row, max_attempts)
            if reason is None:
                report.fail(f"outbox row {row['id']} ({row['kind']} to {row['chat_id']}) given up without a "
                            f"reason that explains it: {row['last_error']!r}")
            else:
                given_up[reason] += 1
        elif row["status"] == "superseded":
            if not row["last_error"]:
                report.fail(f"outbox row {row['id']} superseded without naming the newer row")
        elif row["status"] == "pending":
            if row["not_before"] <= to_db(now):
                report.fail(f"outbox row {row['id']} ({row['kind']} to {row['chat_id']}) still due, never sent")
        else:
            report.fail(f"outbox row {row['id']} has an unknown status {row['status']!r}")
    report.figures["outbox rows"] = dict(statuses)
    report.figures["given up, by reason"] = dict(given_up)
    report.figures["rows sent after a retry"] = retried
    report.figures["retries of sent rows"] = retries


def check_all(conn: sqlite3.Connection, delivered: Mapping[int, Sequence[Mapping[str, Any]]],
              residents: Iterable[int], *, now: datetime, max_attempts: int, marker: str = "工单编号",
              migrated: Mapping[int, int] | None = None) -> InvariantReport:
    """The three families of checks above, in one report."""
    report = InvariantReport()
    check_confirmations(conn, delivered, residents, marker, report)
    check_event_chains(conn, report)
    check_outbox(conn, delivered, now, max_attempts, report, migrated)
    return report


async def collect_delivered(client: Any, chat_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """The emulator's record of every chat in ``chat_ids`` (a ``sandbox.client.SandboxClient``)."""
    return {chat_id: await client.messages(chat_id) for chat_id in set(chat_ids)}
