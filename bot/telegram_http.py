"""The bot's Bot API requests over aiohttp: a python-telegram-bot ``BaseRequest`` (``telegram.http_client``).

Why: under the intake load the bot makes ~1.8 Bot API calls per update, and httpx's stack (httpx, httpcore, anyio,
h11) was the largest single CPU cost per update; aiohttp's client does the same request with less work (a C HTTP
parser, no anyio layer). PTB's documented extension point is ``BaseRequest``: ``do_request`` returns the status and
the body, and PTB's own ``BaseRequest`` turns a non-2xx answer into RetryAfter, ChatMigrated, Forbidden, BadRequest,
InvalidToken, Conflict or NetworkError exactly as it does for its ``HTTPXRequest``.

It mirrors ``telegram.request.HTTPXRequest`` (PTB 22) where the outbox and handlers can tell:

- the body: no files → the parameters' JSON-encoded values form-urlencoded; files → multipart/form-data, the same
  values as plain fields and then each file part (name, filename, content type), bytes or a file handle, the
  filename in UTF-8 with httpx's escapes (aiohttp's own quoting would percent-encode a Chinese name whole); the
  plain parts carry aiohttp's "text/plain; charset=utf-8" (httpx sends none; aiogram sends the same to Telegram);
- the timeouts, each call's own value or, when it passes ``DEFAULT_NONE``, this object's default (the write
  default of a call with files is ``media_write_timeout``); ``None`` means no limit:
    read → aiohttp's ``sock_read`` (the longest gap between two reads of the answer, as in httpx),
    connect → ``sock_connect`` (establishing a new connection),
    pool → the wait for a free connection in front of the connector (a semaphore the size of the connector),
      so a full pool gives httpx's "Pool timeout" TimedOut and the request is *not* sent,
    write → aiohttp has no per-write timeout. A call without files writes a few kB that the socket buffer takes
      at once (a peer that stops reading then shows as the read timeout); a call with files gets a deadline for
      the whole exchange of connect + write + read seconds (none if any of them is None), so a stalled upload
      ends as TimedOut;
- the errors: any timeout → ``telegram.error.TimedOut``; any other aiohttp client error (refused, reset,
  disconnected, bad payload) → ``telegram.error.NetworkError("aiohttp.<Class>: …")``; anything else is wrapped by
  ``BaseRequest`` as NetworkError("Unknown error in HTTP implementation").
- no redirects followed and no cookies kept (httpx's defaults); keep-alive connections expire after 5 s idle
  (httpx's keepalive expiry).

Proxies: the bot's config has no proxy setting. httpx honours HTTP(S)_PROXY / ALL_PROXY from the environment, so
this does too for http(s) proxies (aiohttp's ``trust_env``); a SOCKS or ALL_PROXY-only proxy, which aiohttp cannot
use, is refused at start with a message naming ``telegram.http_client = "httpx"``.
"""

from __future__ import annotations

import asyncio
import urllib.request
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp.payload import BytesPayload
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

FORM_URLENCODED = "application/x-www-form-urlencoded"
POOL_TIMEOUT_MESSAGE = ("Pool timeout: All connections in the connection pool are occupied. Request was *not* sent "
                        "to Telegram. Consider adjusting the connection pool size or the pool timeout.")
KEEPALIVE_S = 5.0  # httpx's keepalive_expiry
_CACHE_MAX = 1024  # distinct URLs / timeout combinations remembered (a bot calls a few dozen methods)


class ProxyNotSupported(RuntimeError):
    """The environment names a proxy aiohttp cannot use (SOCKS, or ALL_PROXY alone)."""


def environment_proxies() -> dict[str, str]:
    """The proxies the environment sets (``urllib``'s reading of ``*_proxy``), without ``no``."""
    return {scheme: url for scheme, url in urllib.request.getproxies().items() if scheme != "no" and url}


def _check_proxies(proxies: dict[str, str]) -> bool:
    """True if aiohttp should read proxies from the environment; ProxyNotSupported if it could not use them."""
    usable = {k: v for k, v in proxies.items() if k in ("http", "https")}
    unusable = [f"{k}_proxy={v}" for k, v in proxies.items()
                if (k in ("http", "https") and not v.lower().startswith(("http://", "https://")))
                or (k == "all" and "https" not in proxies)]
    if unusable:
        raise ProxyNotSupported(
            f"the environment sets {', '.join(sorted(unusable))}: telegram.http_client = \"aiohttp\" can use only "
            "http(s) proxies named by HTTP_PROXY/HTTPS_PROXY; set telegram.http_client = \"httpx\" in the config")
    return bool(usable)


class AiohttpRequest(BaseRequest):
    """``BaseRequest`` over one aiohttp ``ClientSession`` (created by ``initialize``, closed by ``shutdown``).

    ``connection_pool_size`` is the connector's limit (PTB's pools: 256 for the bot's calls, 1 for getUpdates).
    """

    __slots__ = ("_connect_timeout", "_connection_pool_size", "_media_write_timeout", "_pool", "_pool_timeout",
                 "_read_timeout", "_session", "_timeouts", "_urls", "_write_timeout")

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._connection_pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._pool: asyncio.Semaphore | None = None
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}
        self._urls: dict[str, URL] = {}

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB adds getUpdates' long-poll timeout to it)."""
        return self._read_timeout

    @property
    def connection_pool_size(self) -> int:
        return self._connection_pool_size

    async def initialize(self) -> None:
        if self._session is not None and not self._session.closed:
            return
        trust_env = _check_proxies(environment_proxies())
        connector = aiohttp.TCPConnector(limit=self._connection_pool_size, limit_per_host=0,
                                         keepalive_timeout=KEEPALIVE_S)
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": self.USER_AGENT},
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=trust_env,
            timeout=aiohttp.ClientTimeout(),  # every request passes its own
            raise_for_status=False,
        )
        self._pool = asyncio.Semaphore(self._connection_pool_size)

    async def shutdown(self) -> None:
        if self._session is None or self._session.closed:
            return
        await self._session.close()

    def _url(self, url: str) -> URL:
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= _CACHE_MAX:
                self._urls.clear()
            parsed = self._urls[url] = URL(url)
        return parsed

    def _timeout(self, read: float | None, write: float | None, connect: float | None,
                 files: bool) -> aiohttp.ClientTimeout:
        key = (read, write, connect, files)
        timeout = self._timeouts.get(key)
        if timeout is None:
            total = None
            if files and None not in (read, write, connect):
                total = read + write + connect  # type: ignore[operator]
            if len(self._timeouts) >= _CACHE_MAX:
                self._timeouts.clear()
            timeout = self._timeouts[key] = aiohttp.ClientTimeout(total=total, connect=None, sock_read=read,
                                                                   sock_connect=connect)
        return timeout

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session, pool = self._session, self._pool
        if session is None or session.closed or pool is None:
            raise RuntimeError("This AiohttpRequest is not initialized!")

        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None

        if isinstance(read_timeout, DefaultValue):
            read_timeout = self._read_timeout
        if isinstance(connect_timeout, DefaultValue):
            connect_timeout = self._connect_timeout
        if isinstance(pool_timeout, DefaultValue):
            pool_timeout = self._pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write_timeout = self._write_timeout if not files else self._media_write_timeout

        data: Any
        if files:
            # quote_fields=False: names and filenames as httpx writes them (UTF-8, '"' as %22), not percent-encoded
            # whole; a document's filename is what its readers see
            form = aiohttp.FormData(quote_fields=False)
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=_html5_escaped(filename), content_type=mimetype)
            data = form
        elif fields:
            data = BytesPayload(urlencode(fields).encode("ascii"), content_type=FORM_URLENCODED)
        else:
            data = None

        if pool.locked():  # every connection is busy: wait at most pool_timeout, as httpx's pool does
            try:
                async with asyncio.timeout(pool_timeout):
                    await pool.acquire()
            except TimeoutError as err:
                raise TimedOut(message=POOL_TIMEOUT_MESSAGE) from err
        else:
            await pool.acquire()  # free: returns at once
        try:
            async with session.request(method, self._url(url), data=data, allow_redirects=False,
                                       timeout=self._timeout(read_timeout, write_timeout, connect_timeout,
                                                             bool(files))) as response:
                return response.status, await response.read()
        except TimeoutError as err:  # aiohttp's Server/Connection/SocketTimeoutError are TimeoutErrors too
            raise TimedOut from _without_url(err, url)
        except aiohttp.ClientError as err:
            # As HTTPXRequest does: the class name says what happened when the message is empty.
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {_scrub(str(err), url)}") from _without_url(
                err, url)
        finally:
            pool.release()


#: How httpx (and browsers, per the HTML standard) escape a multipart filename: '"' and control characters as %XX;
#: aiohttp then doubles any backslash, as httpx does.
_HTML5_ESCAPES = {ord('"'): "%22", **{c: f"%{c:02X}" for c in range(0x20) if c != 0x1B}}


def _html5_escaped(filename: str | None) -> str | None:
    return filename.translate(_HTML5_ESCAPES) if filename else filename


def _scrub(text: str, url: str) -> str:
    """``text`` without the request's URL, which holds the bot token (aiohttp puts it in some messages)."""
    return text.replace(str(URL(url)), "<url>").replace(url, "<url>")


def _without_url(err: BaseException, url: str) -> BaseException | None:
    """The error to chain, or None where its message holds the URL (a logged traceback would show the token)."""
    return None if _scrub(str(err), url) != str(err) else err
