"""Open311 GeoReport v2 in our terms: our lifecycle states as the spec's ``open``/``closed``, as the statuses of
FixMyStreet's ``servicerequestupdates`` extension, and the catalogue key of each state's plain-words note.

A case the unit has answered (resolved) is ``closed`` for Open311: the agency's work is done, and a resident's
rating that reopens it makes it ``open`` again. Tickets filed over the API have no resident to rate them, so
they are auto-closed after ``handling.auto_close_days`` like any unrated case.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bot.domain.lifecycle import TicketState

S = TicketState

#: GeoReport v2's status of each state.
STATUS: Mapping[TicketState, str] = MappingProxyType({
    S.REGISTERED: "open", S.DISPATCHED: "open", S.ACCEPTED: "open", S.RETURNED: "open", S.REOPENED: "open",
    S.RESOLVED: "closed", S.CLOSED: "closed", S.REJECTED: "closed", S.WITHDRAWN: "closed", S.MERGED: "closed",
})

#: The status a FixMyStreet installation understands in a request_update (its Open311 update states).
UPDATE_STATUS: Mapping[TicketState, str] = MappingProxyType({
    S.REGISTERED: "open", S.DISPATCHED: "open", S.ACCEPTED: "in_progress", S.RETURNED: "investigating",
    S.REOPENED: "open", S.RESOLVED: "fixed", S.CLOSED: "closed", S.REJECTED: "no_further_action",
    S.WITHDRAWN: "closed", S.MERGED: "duplicate",
})

#: The catalogue key of each state's status note (plain words, no names, no contact).
NOTE_KEY: Mapping[TicketState, str] = MappingProxyType({
    S.REGISTERED: "open311.note_registered", S.DISPATCHED: "open311.note_dispatched",
    S.ACCEPTED: "open311.note_accepted", S.RETURNED: "open311.note_returned", S.REOPENED: "open311.note_reopened",
    S.RESOLVED: "open311.note_resolved", S.CLOSED: "open311.note_closed", S.REJECTED: "open311.note_rejected",
    S.WITHDRAWN: "open311.note_withdrawn", S.MERGED: "open311.note_merged",
})

#: GET requests without dates covers this many days back from now, and answers at most this many requests.
DEFAULT_DAYS = 90
MAX_ROWS = 1000

del S
