"""Every (state, action) of the lifecycle specification, applied by the workflow's one seam to a real database:
the event, the deadline effect and the bounce all derive from the specification's row, and every card draws
exactly the buttons the specification offers in that state."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot import cards
from bot.callbacks import CARD_OPS, TicketButton
from bot.cards import CardExtras
from bot.clock import FakeClock
from bot.domain.lifecycle import SPEC, TRANSITIONS, Action, Card, DeadlineEffect, TicketState
from bot.texts import Texts
from bot.workflow import WorkflowDeps
from bot.workflow.messages import Messages
from bot.workflow.transitions import Transitions
from storage import tickets, users
from storage.db import Database
from storage.records import Ticket
from tests.e2e.conftest import e2e_config

S, E = TicketState, DeadlineEffect
PAIRS = sorted(TRANSITIONS, key=str)


@pytest.fixture
async def deps(tmp_path: Path, storage_target):
    db = await Database.open(storage_target)
    clock = FakeClock()
    clock.set(clock.now().replace(year=2026, month=3, day=2, hour=2, minute=0))  # a Monday, 10:00 in Fuyang
    yield WorkflowDeps(db=db, config=e2e_config(tmp_path), clock=clock, texts=Texts())
    await db.close()


def _ticket_in(c, state: TicketState, now) -> Ticket:
    new = tickets.NewTicket("350823614", "registered", "housing", 501, "楼道灯坏了", None, None, "none", None, None,
                            "yingzhou", "general")
    users.upsert(c, 501, "zh", now)
    t = tickets.insert(c, new, now)
    clocks = {S.DISPATCHED: {"sign_due_at": now + timedelta(hours=3), "dispatched_at": now},
              S.ACCEPTED: {"due_at": now + timedelta(days=5), "accepted_at": now - timedelta(hours=1)},
              S.REOPENED: {"due_at": now + timedelta(days=5), "accepted_at": now - timedelta(days=9)},
              S.RESOLVED: {"resolved_at": now, "answer": "已修好"}}.get(state, {})
    unit = None if state in (S.REGISTERED, S.RETURNED) else "yingzhou"
    return tickets.update(c, t.id, t.version, now, state=state, unit=unit, **clocks)


@pytest.mark.parametrize(("state", "action"), PAIRS, ids=lambda p: str(p))
async def test_applying_a_row_writes_what_the_row_says(deps: WorkflowDeps, state: TicketState,
                                                        action: Action) -> None:
    spec = SPEC[action]
    transitions = Transitions(deps, Messages(deps))
    now = deps.clock.now()
    extra = {Action.DISPATCH: {"unit": "yingzhou"}, Action.ASSIGN_LEAD: {"unit": "yingzhou", "lead": True},
             Action.REDISPATCH: {"unit": "yingquan"}, Action.CHANGE_CLASS: {"deadline_class": "complex"},
             Action.RETURN: {"unit": None}}.get(action, {})

    def tx(c):
        before = _ticket_in(c, state, now)
        after = transitions.apply(c, before, action, now, by=7, extend_days=2, **extra)
        return before, after, tickets.events(c, after.id)

    before, after, events = await deps.db.write(tx)
    event = events[-1] if spec.event != "returned" or not after.escalated else events[-2]
    assert (event.action, event.from_state, event.to_state) == (spec.event, state, spec.target_from(state))
    assert (event.actor_kind, bool(event.public)) == (spec.actor, spec.public)
    assert after.state is spec.target_from(state)
    assert after.bounces == before.bounces + (1 if spec.bounce else 0)
    _check_deadline_effect(spec.deadline, before, after, now)


def _check_deadline_effect(effect: DeadlineEffect, before: Ticket, after: Ticket, now) -> None:
    if effect is E.START_SIGN:
        assert after.sign_due_at is not None and after.sign_due_at > now and after.due_at is None
        assert after.dispatched_at == now
    elif effect is E.START_HANDLING:
        assert after.accepted_at == now and after.signed_on_time is not None and after.due_at is not None
        if before.due_at is not None:
            assert after.due_at == before.due_at, "a re-opened case keeps its fresh deadline"
    elif effect is E.STOP_HANDLING:
        assert after.resolved_at == now and after.resolved_on_time is not None
    elif effect is E.CLEAR:
        assert (after.sign_due_at, after.due_at) == (None, None)
    elif effect is E.RESTART_HANDLING:
        assert after.due_at is not None and after.due_at > now
    elif effect is E.EXTEND:
        assert after.due_at is not None and before.due_at is not None and after.due_at > before.due_at
    elif effect is E.RECLASS:
        if before.state is S.ACCEPTED:
            assert after.due_at != before.due_at, "recomputed for the new class from sign-for"
        else:
            assert after.due_at == before.due_at
    else:
        assert (after.sign_due_at, after.due_at) == (before.sign_due_at, before.due_at)


def _drawn(card: Card, t: Ticket) -> list[str]:
    texts, lang, city = Texts(), "zh", e2e_config(Path("/nonexistent")).city
    payload = {Card.UNIT: lambda: cards.unit_card(texts, lang, city, t, CardExtras()),
               Card.COORDINATION: lambda: cards.coordination_card(texts, lang, city, t, CardExtras()),
               Card.EXTENSION: lambda: cards.extension_card(texts, lang, city, t, 1, "yingzhou", 2, "人手不足"),
               Card.INQUIRY: lambda: {"reply_markup": {
                   "inline_keyboard": cards.action_buttons(texts, lang, Card.INQUIRY, t, "1")}},
               Card.MY: lambda: {"reply_markup": {"inline_keyboard": [cards.my_buttons(texts, lang, t)]}},
               Card.MERGE_PROPOSAL: lambda: cards.merge_proposal_card(texts, lang, city, t, t, "yingzhou"),
               # the callback card's own buttons (its rating buttons are the resident's two questions)
               Card.CALLBACK: lambda: {"reply_markup": {
                   "inline_keyboard": cards.action_buttons(texts, lang, Card.CALLBACK, t)}}}[card]()
    rows = payload["reply_markup"]["inline_keyboard"]
    assert all(len(row) <= 2 for row in rows)
    return [TicketButton.decode(b["callback_data"]).op for row in rows for b in row]  # type: ignore[union-attr]


@pytest.mark.parametrize("card", list(Card))
@pytest.mark.parametrize("state", list(TicketState))
@pytest.mark.parametrize("lead", [False, True])
async def test_every_card_draws_the_buttons_the_specification_offers(deps: WorkflowDeps, card: Card,
                                                                      state: TicketState, lead: bool) -> None:
    t = await deps.db.write(lambda c: _ticket_in(c, state, deps.clock.now()))
    t = Ticket(**{**t.__dict__, "lead": lead})
    offered = [CARD_OPS[s.action] for s in SPEC.values()
               if s.button is not None and s.button.card is card
               and state in (s.button.shown_in or s.sources) and (s.lead_may or not lead)]
    assert _drawn(card, t) == offered
    for op in offered:  # and each offered button is an action the state allows
        action = next(a for a, o in CARD_OPS.items() if o == op)
        assert (state, action) in TRANSITIONS


def test_only_a_units_return_is_a_bounce() -> None:
    assert [a for a, s in SPEC.items() if s.bounce] == [Action.RETURN]
    assert not SPEC[Action.REDISPATCH].bounce, "a coordinator's re-dispatch is a decision, not a bounce"


async def test_group_chats_read_the_configured_group_language(deps: WorkflowDeps) -> None:
    import dataclasses

    english = dataclasses.replace(deps.config, handling=dataclasses.replace(deps.config.handling,
                                                                            group_language="en"))
    en_deps = dataclasses.replace(deps, config=english)
    card = await deps.db.write(lambda c: Messages(en_deps).render(c, _ticket_in(c, S.DISPATCHED, deps.clock.now()),
                                                                  "unit"))
    labels = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == [Texts().get("en", "card.btn_accept"), Texts().get("en", "card.btn_return"),
                      Texts().get("en", "card.btn_propose_merge")]
    assert Texts().get("en", "card.title", number="350 823 614") in card["text"]
