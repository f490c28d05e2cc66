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


@pytest.mark.parametrize("command", ["/nonsense", "/ticket 123456789", "/open", "/bind ABC", "/report"])
async def test_an_unknown_or_group_only_command_in_private_is_answered(sb, command: str) -> None:
    resident = await sb.person("王芳")
    await resident.say(command)
    await resident.expect(zh("commands.not_here"))
