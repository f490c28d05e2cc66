"""Use-cases: each is one transaction that writes the state change, its events and its outbox messages."""

from bot.workflow.common import Refused, WorkflowDeps
from bot.workflow.handling import Actor, Handling
from bot.workflow.intake import AddedPhotos, Intake, Nearby
from bot.workflow.lookup import Lookup, StatusView

__all__ = ["Actor", "AddedPhotos", "Handling", "Intake", "Lookup", "Nearby", "Refused", "StatusView", "WorkflowDeps"]
