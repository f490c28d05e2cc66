"""The suite-wide network guard (tests/conftest.py) refuses everything but loopback, before any traffic.

The refused addresses are TEST-NET (192.0.2.0/24, 2001:db8::/32: never routed) or names the guard refuses
before they are resolved, so even a broken guard would send nothing that could reach anyone.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from telegram import Bot

from tests import conftest
from tests.conftest import REFUSED, NetworkGuardError

TEST_NET = "192.0.2.1"


@pytest.fixture(autouse=True)
def guard_is_on() -> Iterator[None]:
    """Nothing below runs unless the guard is installed; the refusals these tests provoke are expected."""
    assert socket.getaddrinfo is conftest._getaddrinfo and socket.socket.connect is conftest._connect
    yield
    REFUSED.clear()


def _refused(call) -> str:
    started = time.monotonic()
    with pytest.raises(NetworkGuardError) as caught:
        call()
    assert time.monotonic() - started < 0.5, "refused at once, not after a timeout"
    assert REFUSED and REFUSED[-1] == str(caught.value)
    return str(caught.value)


@pytest.mark.parametrize("family, address", [
    (socket.AF_INET, (TEST_NET, 80)),
    (socket.AF_INET6, ("2001:db8::1", 443, 0, 0)),
    (socket.AF_INET6, ("::ffff:192.0.2.1", 443, 0, 0)),
    (socket.AF_INET, ("api.telegram.org", 443)),
])
def test_a_socket_outside_loopback_is_refused(family: int, address: tuple) -> None:
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        message = _refused(lambda: sock.connect(address))
        assert address[0] in message and "loopback" in message
        _refused(lambda: sock.connect_ex(address))
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        _refused(lambda: sock.sendto(b"x", address))


def test_resolving_and_create_connection_are_refused() -> None:
    assert "192.0.2.1" in _refused(lambda: socket.create_connection((TEST_NET, 80), timeout=0.1))
    assert "api.telegram.org" in _refused(lambda: socket.getaddrinfo("api.telegram.org", 443))


async def test_httpx_and_telegram_are_refused() -> None:
    async with httpx.AsyncClient(timeout=1) as client:
        with pytest.raises(Exception):  # noqa: B017 - httpx may wrap it; the record says what happened
            await client.get(f"http://{TEST_NET}/")
    assert REFUSED and TEST_NET in REFUSED[-1]
    REFUSED.clear()
    with pytest.raises(Exception):  # noqa: B017
        await Bot("123:abc").get_me()  # the real Bot API server, by name: refused before the DNS lookup
    assert REFUSED and "api.telegram.org" in REFUSED[-1]


def test_loopback_and_unix_sockets_are_allowed(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        for host in ("127.0.0.1", "localhost"):
            with socket.create_connection((host, port), timeout=2):
                pass
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
            assert client.connect_ex(("127.0.0.1", port)) == 0
    path = str(tmp_path / "s")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(path)
    assert not REFUSED


def test_ipv6_loopback_is_allowed() -> None:
    try:
        server = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        server.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with server:
        server.listen()
        with socket.create_connection(("::1", server.getsockname()[1]), timeout=2):
            pass
    assert not REFUSED


async def test_asyncio_reaches_loopback() -> None:
    async def hello(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"hi")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(hello, "127.0.0.1", 0)
    async with server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
        assert await reader.read() == b"hi"
        writer.close()
    assert not REFUSED


def test_the_guard_classifies_addresses() -> None:
    for host in ("127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST.", "a.localhost",
                 "::ffff:127.0.0.1", None, "", b"127.0.0.1"):
        assert conftest.is_loopback(host), host
    for host in (TEST_NET, "0.0.0.0", "10.0.0.1", "2001:db8::1", "fe80::1%eth0", "example.org", "127.0.0.1.nip.io",
                 42):
        assert not conftest.is_loopback(host), host
