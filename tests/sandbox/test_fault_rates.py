"""Faults at set rates: seeded and repeatable, per method and chat; a drawn 403 blocks for real, a drawn migration
moves the group for real."""

from __future__ import annotations

import pytest

from sandbox.client import SandboxClient, SandboxError
from sandbox.limits import FaultRates

from .conftest import Call


def test_the_same_seed_draws_the_same_faults_and_rates_are_respected() -> None:
    rates = {"sendmessage": {"500": 0.2, "429": 0.1}}
    first = [f and f.kind for f in (FaultRates(rates, seed=7).draw("sendmessage", 1) for _ in range(1))]
    a, b = FaultRates(rates, seed=7), FaultRates(rates, seed=7)
    draws_a = [(f.kind if f else None) for f in (a.draw("sendmessage", 1) for _ in range(2000))]
    draws_b = [(f.kind if f else None) for f in (b.draw("sendmessage", 1) for _ in range(2000))]
    assert draws_a == draws_b and first[0] == draws_a[0]
    assert 300 <= draws_a.count("500") <= 500 and 130 <= draws_a.count("429") <= 270
    assert a.draw("getme", 1) is None  # a method without rates (and no "*") never faults


def test_rates_outside_their_chats_never_fault_and_bad_rates_are_refused() -> None:
    only = FaultRates({"*": {"502": 1.0}}, chat_ids={"5"})
    assert only.draw("sendmessage", 6) is None and only.draw("sendmessage", 5).kind == "502"
    with pytest.raises(ValueError):
        FaultRates({"*": {"418": 0.1}})
    with pytest.raises(ValueError):
        FaultRates({"*": {"500": 0.7, "502": 0.6}})


async def test_a_drawn_403_blocks_the_user_until_they_write_again(call: Call, client: SandboxClient) -> None:
    user = await client.create_user("Han")
    await client.send(user["id"], text="hi")
    await client.fault_rates({"sendmessage": {"403": 1.0}}, chat_ids=[user["id"]])
    status, body = await call("sendMessage", chat_id=user["id"], text="x")
    assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")
    await client.fault_rates({})
    assert (await call("sendMessage", chat_id=user["id"], text="x"))[0] == 403  # still blocked: it was real
    await client.send(user["id"], text="back")
    assert (await call("sendMessage", chat_id=user["id"], text="x"))[0] == 200
    assert (await client.stats())["faults"]["403"] == 1


async def test_a_drawn_migration_moves_the_group_once(call: Call, client: SandboxClient) -> None:
    alice = await client.create_user("Alice")
    group = await client.create_group("g", [alice["id"]])
    await client.fault_rates({"sendmessage": {"migrate": 1.0}}, seed=1)
    status, body = await call("sendMessage", chat_id=group["id"], text="x")
    new_id = body["parameters"]["migrate_to_chat_id"]
    assert status == 400 and new_id < -1000000000000
    # the supergroup cannot migrate again, so the next draw does nothing there
    assert (await call("sendMessage", chat_id=new_id, text="x"))[0] == 200
    assert (await call("sendMessage", chat_id=group["id"], text="x"))[0] == 400  # the old id stays moved


async def test_chats_can_be_added_while_rates_run(call: Call, client: SandboxClient) -> None:
    user = await client.create_user("Han")
    await client.send(user["id"], text="hi")
    await client.fault_rates({"sendmessage": {"500": 1.0}}, chat_ids=[])
    assert (await call("sendMessage", chat_id=user["id"], text="x"))[0] == 200
    await client.fault_chats([user["id"]])
    assert (await call("sendMessage", chat_id=user["id"], text="x"))[0] == 500
    await client.clear_faults()
    with pytest.raises(SandboxError):
        await client.fault_chats([user["id"]])
