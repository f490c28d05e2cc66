"""What the fuzzer found, each pinned by a regression test."""

from __future__ import annotations

import pytest

from tests.e2e.talk import zh


@pytest.mark.parametrize("command", ["/start", "/my", "/cancel", "/lang"])
async def test_a_residents_command_in_a_group_is_told_to_write_privately(local, sb, command: str) -> None:
    liaison = local.liaisons["yingzhou_liaison"]
    group = int(local.groups["yingzhou_liaison"]["id"])
    from sandbox.client import Person

    person = Person(sb, liaison, None, await sb.seq())
    await person.say(command, chat=group)
    await person.expect(zh("common.group_ignored"), chat=group)
