"""Use-cases: each is one transaction that writes the state change, its events and its outbox messages.

| module | holds |
|---|---|
| ``common`` | ``WorkflowDeps`` (database, config, clock, texts), ``Actor``, ``Refused`` |
| ``access`` | who may act on a ticket from which chat, version checks, pending follow-up questions |
| ``transitions`` | the seam applying one row of the lifecycle specification (state, event, deadlines, bounce) |
| ``messages`` | every outbox message of the handling loop: cards, notices, alerts |
| ``dispatch`` | routing a new ticket and handing a case to a unit |
| ``unit_actions`` | the liaison's buttons: sign for, return, more time, answer |
| ``coordination`` | the coordinators' decisions: lead and helpers, re-dispatch, class, reject, extensions |
| ``rating`` | the resident's rating and the auto-close of unrated answers |
| ``inquiry`` | a unit's questions to the reporter (询问群众) and the answers, relayed without identities |
| ``resident_actions`` | the reporter's material (补充材料) and withdrawal (撤回) from /my |
| ``administration`` | one-time codes, bindings, liaisons, migrated groups |
| ``cases`` | operators' reads: one case whole, a unit's open cases |
| ``intake``, ``intake_photos`` | the resident's draft, its photo step, the confirmation |
| ``lookup`` | public status and /my |
| ``sweep``, ``reporting`` | the deadline sweep and digests; the reports |
"""

from bot.workflow.common import Actor, Refused, WorkflowDeps
from bot.workflow.intake import Intake, Nearby
from bot.workflow.intake_photos import AddedPhotos
from bot.workflow.lookup import Lookup, StatusView

__all__ = ["Actor", "AddedPhotos", "Intake", "Lookup", "Nearby", "Refused", "StatusView", "WorkflowDeps"]
