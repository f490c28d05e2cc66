"""Suite-wide: the tests never reach the network beyond this machine.

Like python-telegram-bot's own ``OfflineRequest``, but one level lower, so it holds for every client (PTB's
httpx, the sandbox client, asyncio, plain sockets): from ``pytest_configure`` to the end of the session,
``socket.socket.connect``/``connect_ex``/``sendto``, ``socket.create_connection`` and ``socket.getaddrinfo``
refuse any Internet address outside loopback (127.0.0.0/8, ::1, ``localhost``) with :class:`NetworkGuardError`,
before a packet is sent or a name is resolved. Unix and other non-IP sockets are left alone. The e2e tests talk to
the emulator on 127.0.0.1 and keep working.

The error is a RuntimeError, not an OSError, so code that retries on connection errors does not swallow it; and
every refusal is also recorded, so a test whose code caught it anyway still fails (at teardown) naming the address.
Subprocesses a test starts are not covered (they point at the local emulator by their config).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest


class NetworkGuardError(RuntimeError):
    """A test tried to reach an address outside this machine."""


_ORIGINAL: dict[str, Any] = {}
#: Refusals since the current test started: (what, address).
REFUSED: list[str] = []


def is_loopback(host: object) -> bool:
    if host is None or host == "":
        return True  # no host: binding or resolving a local service, nothing leaves the machine
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").split("%", 1)[0].rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False  # any other name would need a DNS query
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _refuse(what: str, address: object) -> None:
    message = f"network guard: the tests may not reach {address!r} ({what}); only loopback is allowed"
    REFUSED.append(message)
    raise NetworkGuardError(message)


def _check_socket(sock: socket.socket, what: str, address: object) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # AF_UNIX and friends stay on the machine
    host = address[0] if isinstance(address, tuple) and address else address
    if not is_loopback(host):
        _refuse(what, address)


def _connect(self: socket.socket, address: Any) -> None:
    _check_socket(self, "socket.connect", address)
    return _ORIGINAL["connect"](self, address)


def _connect_ex(self: socket.socket, address: Any) -> int:
    _check_socket(self, "socket.connect_ex", address)
    return _ORIGINAL["connect_ex"](self, address)


def _sendto(self: socket.socket, data: Any, *args: Any) -> int:
    _check_socket(self, "socket.sendto", args[-1] if args else None)
    return _ORIGINAL["sendto"](self, data, *args)


def _create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
    if not is_loopback(address[0]):
        _refuse("socket.create_connection", address)
    return _ORIGINAL["create_connection"](address, *args, **kwargs)


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> list[Any]:
    if not is_loopback(host):
        _refuse("socket.getaddrinfo", host)
    return _ORIGINAL["getaddrinfo"](host, *args, **kwargs)


def install() -> None:
    if _ORIGINAL:
        return
    _ORIGINAL.update(connect=socket.socket.connect, connect_ex=socket.socket.connect_ex,
                     sendto=socket.socket.sendto, create_connection=socket.create_connection,
                     getaddrinfo=socket.getaddrinfo)
    socket.socket.connect = _connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = _sendto  # type: ignore[method-assign]
    socket.create_connection = _create_connection  # type: ignore[assignment]
    socket.getaddrinfo = _getaddrinfo  # type: ignore[assignment]


def uninstall() -> None:
    if not _ORIGINAL:
        return
    socket.socket.connect = _ORIGINAL["connect"]  # type: ignore[method-assign]
    socket.socket.connect_ex = _ORIGINAL["connect_ex"]  # type: ignore[method-assign]
    socket.socket.sendto = _ORIGINAL["sendto"]  # type: ignore[method-assign]
    socket.create_connection = _ORIGINAL["create_connection"]
    socket.getaddrinfo = _ORIGINAL["getaddrinfo"]
    _ORIGINAL.clear()


def pytest_configure(config: pytest.Config) -> None:
    install()
    config.addinivalue_line("markers", "backends: an end-to-end test run on both storage backends (SQLite and "
                                       "PostgreSQL; see tests/e2e/conftest.py)")


def pytest_unconfigure(config: pytest.Config) -> None:
    uninstall()


@pytest.fixture(autouse=True)
def _no_network_refusal_swallowed() -> Iterator[None]:
    """Fail a test whose code caught a refusal (the error alone could be lost in a retry loop or a log)."""
    REFUSED.clear()
    yield
    refused, REFUSED[:] = list(REFUSED), []
    if refused:
        pytest.fail("\n".join(refused), pytrace=False)


# -- PostgreSQL: one throwaway server per session (tests/pg_cluster.py), one fresh database per test -------------

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Any]:
    from tests.pg_cluster import Cluster, Unavailable

    cluster = Cluster()
    try:
        cluster.start()
    except Unavailable as reason:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: Any) -> str:
    """A fresh, migrated PostgreSQL database of its own for this test."""
    return str(pg_cluster.new_database())


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Run the test once per storage backend (sqlite, postgresql)."""
    return str(request.param)


@pytest.fixture
def storage_target(backend: str, request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    """What `Database.open` takes for this backend: a fresh SQLite file's path, or a fresh PostgreSQL URL."""
    if backend == "postgresql":
        return request.getfixturevalue("pg_url")
    return tmp_path / "t.sqlite3"


@pytest.fixture
def pg_empty_url(pg_cluster: Any) -> str:
    """A fresh PostgreSQL database with nothing in it (not even our tables)."""
    return str(pg_cluster.empty_database())
