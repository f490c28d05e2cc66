"""The Open311 GeoReport v2 server (aiohttp): parse an HTTP request, call one use-case of
``bot.workflow.open311``, render the answer (``bot.api.render``). No rules and no SQL here.

Endpoints, under ``[open311].base_path``, each as ``.xml`` or ``.json``::

    GET  services.{fmt}                      the categories
    GET  services/{service_code}.{fmt}       a category's definition (its attributes)
    POST requests.{fmt}                      file a request (api_key); answers the ticket number at once
    GET  requests.{fmt}                      public views, filtered (90 days and 1,000 rows by default)
    GET  requests/{service_request_id}.{fmt} one public view
    GET  servicerequestupdates.{fmt}         FixMyStreet's extension: the public events of a period

``GET tokens/{token}`` is not served: a POST answers with the service_request_id itself.

Limits are checked before anything is read or written: the body's declared size (413), the key (403) and its
rate (429 with Retry-After), then each photo's size while it is read (400), then the use-case's checks.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web
from multidict import MultiDictProxy

from bot.api import render
from bot.config import Open311Client, Open311Config
from bot.domain.ratelimit import SlidingWindow
from bot.texts import language_for
from bot.workflow.open311 import API_LANGUAGE, ApiRefused, NewRequest, RequestQuery

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

_PATHS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("GET", re.compile(r"services\.(?P<fmt>\w+)"), "services"),
    ("GET", re.compile(r"services/(?P<code>[^/]+)\.(?P<fmt>\w+)"), "service"),
    ("GET", re.compile(r"requests\.(?P<fmt>\w+)"), "requests"),
    ("POST", re.compile(r"requests\.(?P<fmt>\w+)"), "create"),
    ("GET", re.compile(r"requests/(?P<id>[^/]+)\.(?P<fmt>\w+)"), "request"),
    ("GET", re.compile(r"servicerequestupdates\.(?P<fmt>\w+)"), "updates"),
)
_ATTRIBUTE = re.compile(r"attribute\[([^\[\]]+)\](\[\])?")
_CHUNK = 64 * 1024
#: Form fields of a POST kept as text, and the most characters read of any one of them.
_TEXT_FIELDS = ("api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id",
                "description", "media_url", "email", "first_name", "last_name", "phone", "device_id", "account_id")
_MAX_FIELD_BYTES = 64 * 1024
#: Multipart parts taken as photos (FixMyStreet and most clients name it media).
_PHOTO_FIELDS = ("media", "media[]", "photo", "photo[]", "photos", "photos[]")


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class _Form:
    """A POST's fields: text values (several for one name allowed) and photo bytes."""

    def __init__(self) -> None:
        self.values: dict[str, list[str]] = {}
        self.photos: list[bytes] = []

    def add(self, name: str, value: str) -> None:
        self.values.setdefault(name, []).append(value)

    def get(self, name: str) -> str | None:
        found = [v.strip() for v in self.values.get(name, []) if v.strip()]
        return found[0] if found else None

    def attributes(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name, values in self.values.items():
            match = _ATTRIBUTE.fullmatch(name)
            if match:
                out.setdefault(match.group(1), []).extend(values)
        return out


class ApiServer:
    """The API as an aiohttp application over the bot's services (one database, one config)."""

    def __init__(self, services: Services) -> None:
        self.s = services
        self._windows: dict[str, SlidingWindow] = {}
        self._runner: web.AppRunner | None = None
        self.url: str | None = None

    @property
    def cfg(self) -> Open311Config:
        return self.s.config.open311

    # -- lifecycle ---------------------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        # aiohttp's own cap (form-encoded bodies) one byte above ours, so ours speaks first with the spec's shape
        app = web.Application(client_max_size=self.cfg.max_body_bytes + 1, middlewares=[self._errors])
        app.router.add_route("*", self.cfg.base_path + "/{tail:.*}", self._dispatch)
        return app

    async def start(self) -> str:
        self._runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.cfg.host, self.cfg.port).start()
        port = self._runner.addresses[0][1]
        self.url = f"http://{self.cfg.host}:{port}{self.cfg.base_path}"
        log.info("Open311 API listening on %s", self.url)
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- plumbing ----------------------------------------------------------------------------------------

    @web.middleware
    async def _errors(self, request: web.Request,
                      handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiRefused as refused:
            return self._error(request, refused)
        except web.HTTPRequestEntityTooLarge:
            return self._error(request, ApiRefused(413, "open311.err_too_large", limit=self.cfg.max_body_bytes))

    def _error(self, request: web.Request, refused: ApiRefused) -> web.Response:
        fmt = _format_of(request.path)
        text = self.s.texts.get(_lang(request), refused.key, **refused.params)
        body, content_type = render.errors(fmt, refused.status, text)
        headers = {"Retry-After": str(refused.params["seconds"])} if refused.status == 429 else None
        return _response(body, content_type, refused.status, headers)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]
        for method, pattern, name in _PATHS:
            match = pattern.fullmatch(tail)
            if match and request.method == method:
                fmt = match.group("fmt")
                if fmt not in render.FORMATS:
                    raise ApiRefused(404, "open311.err_not_found")
                handler = getattr(self, f"_{name}")
                args = {k: v for k, v in match.groupdict().items() if k != "fmt"}
                body, content_type = await handler(request, fmt, **args)
                return _response(body, content_type)
        raise ApiRefused(404, "open311.err_not_found")

    def _check_jurisdiction(self, given: str | None) -> None:
        want = self.cfg.jurisdiction_id
        if given and want and given.strip() != want:
            raise ApiRefused(404, "open311.err_jurisdiction", jurisdiction_id=given.strip()[:60])

    def _client(self, key: str | None) -> Open311Client:
        """The client whose key this is; 403 for none or a wrong one. Then its rate: 429 above it."""
        client = None
        if key:
            digest = key_digest(key)
            client = next((c for c in self.cfg.clients if hmac.compare_digest(c.key_sha256, digest)), None)
        if client is None:
            raise ApiRefused(403, "open311.err_api_key")
        limit = client.requests_per_minute or self.cfg.requests_per_minute
        window = self._windows.get(client.name)
        if window is None or window.limit != limit:
            window = self._windows[client.name] = SlidingWindow(limit, timedelta(minutes=1))
        now = self.s.clock.now()
        if not window.hit(0, now):
            seconds = max(1, math.ceil(window.retry_in(0, now).total_seconds()))
            raise ApiRefused(429, "open311.err_rate", seconds=seconds)
        return client

    def _query_common(self, request: web.Request) -> MultiDictProxy[str]:
        query = request.query
        self._check_jurisdiction(query.get("jurisdiction_id"))
        if query.get("api_key"):  # a GET needs no key; one that carries a key is held to it and to its rate
            self._client(query.get("api_key"))
        return query

    # -- endpoints ---------------------------------------------------------------------------------------

    async def _services(self, request: web.Request, fmt: str) -> render.Body:
        self._query_common(request)
        return render.services(fmt, self.s.open311.services())

    async def _service(self, request: web.Request, fmt: str, code: str) -> render.Body:
        self._query_common(request)
        return render.service_definition(fmt, self.s.open311.service(code))

    async def _request(self, request: web.Request, fmt: str, id: str) -> render.Body:
        self._query_common(request)
        found = await self.s.open311.request(id, _lang(request))
        return render.requests(fmt, [found], self.s.config.city.timezone)

    async def _requests(self, request: web.Request, fmt: str) -> render.Body:
        query = self._query_common(request)
        tz = self.s.config.city.timezone
        statuses = _list(query.get("status"))
        if any(s not in ("open", "closed") for s in statuses):
            raise ApiRefused(400, "open311.err_bad_status")
        found = await self.s.open311.requests(RequestQuery(
            numbers=_list(query.get("service_request_id")), service_codes=_list(query.get("service_code")),
            statuses=statuses, start=_date(query, "start_date", tz), end=_date(query, "end_date", tz),
        ), _lang(request))
        return render.requests(fmt, found, tz)

    async def _updates(self, request: web.Request, fmt: str) -> render.Body:
        query = self._query_common(request)
        tz = self.s.config.city.timezone
        found = await self.s.open311.updates(_date(query, "start_date", tz), _date(query, "end_date", tz),
                                             _lang(request))
        return render.updates(fmt, found, tz)

    async def _create(self, request: web.Request, fmt: str) -> render.Body:
        limit = self.cfg.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise ApiRefused(413, "open311.err_too_large", limit=limit)
        form = await self._read_form(request)
        for name, value in request.query.items():  # the spec's clients may put api_key in the URL
            if name in ("api_key", "jurisdiction_id") and not form.get(name):
                form.add(name, value)
        self._check_jurisdiction(form.get("jurisdiction_id"))
        client = self._client(form.get("api_key"))
        ticket = await self.s.open311.file(NewRequest(
            client=client.name, service_code=form.get("service_code"),
            lat=_coordinate(form.get("lat")), lon=_coordinate(form.get("long")),
            address_string=form.get("address_string"), address_id=form.get("address_id"),
            description=form.get("description"), media_url=form.get("media_url"), attributes=form.attributes(),
            email=form.get("email"), first_name=form.get("first_name"), last_name=form.get("last_name"),
            phone=form.get("phone"), device_id=form.get("device_id"), account_id=form.get("account_id"),
            photos=form.photos,
        ))
        notice = self.s.texts.get(_lang(request), "open311.note_registered")
        return render.created(fmt, ticket.number, notice)

    async def _read_form(self, request: web.Request) -> _Form:
        form = _Form()
        if request.content_type == "multipart/form-data":
            await self._read_multipart(request, form)
            return form
        if request.content_type in ("application/x-www-form-urlencoded", ""):
            try:
                data = await request.post()
            except web.HTTPRequestEntityTooLarge:
                raise
            except ValueError:
                raise ApiRefused(400, "open311.err_bad_form") from None
            for name, value in data.items():
                if isinstance(value, str):
                    form.add(name, value)
            return form
        raise ApiRefused(400, "open311.err_bad_form")

    async def _read_multipart(self, request: web.Request, form: _Form) -> None:
        """Every part, counting bytes as they come: the body over max_body_bytes is 413, a photo over the
        image cap is refused when the cap is passed (the rest of it is never read)."""
        total, limit = 0, self.cfg.max_body_bytes
        image_cap = self.s.config.intake.max_image_bytes
        try:
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    raise ApiRefused(400, "open311.err_bad_form")
                name = part.name or ""
                is_photo = name in _PHOTO_FIELDS or (part.filename is not None and name not in _TEXT_FIELDS)
                cap = image_cap if is_photo else _MAX_FIELD_BYTES
                declared = part.headers.get("Content-Length")
                if is_photo and declared and declared.isdigit() and int(declared) > cap:
                    raise ApiRefused(400, "open311.err_photo", position=len(form.photos) + 1,
                                     reason=self._too_big_text(request))
                data = bytearray()
                while chunk := await part.read_chunk(_CHUNK):
                    total += len(chunk)
                    if total > limit:
                        raise ApiRefused(413, "open311.err_too_large", limit=limit)
                    data += chunk
                    if len(data) > cap:
                        if is_photo:
                            raise ApiRefused(400, "open311.err_photo", position=len(form.photos) + 1,
                                             reason=self._too_big_text(request))
                        raise ApiRefused(400, "open311.err_bad_form")
                if is_photo:
                    form.photos.append(bytes(data))
                else:
                    form.add(name, bytes(data).decode("utf-8", errors="replace"))
        except (ValueError, AssertionError):  # a malformed multipart body
            raise ApiRefused(400, "open311.err_bad_form") from None

    def _too_big_text(self, request: web.Request) -> str:
        return self.s.texts.get(_lang(request), "photo.too_big_bytes",
                                max_mb=self.s.config.intake.max_image_bytes // (1024 * 1024))


# -- parsing helpers --------------------------------------------------------------------------------------------

def _response(body: bytes, content_type: str, status: int = 200,
              headers: Mapping[str, str] | None = None) -> web.Response:
    response = web.Response(status=status, body=body, headers=headers)
    response.headers["Content-Type"] = content_type
    return response


def _format_of(path: str) -> str:
    return "json" if path.endswith(".json") else "xml"


def _lang(request: web.Request) -> str:
    header = request.headers.get("Accept-Language", "")
    first = header.split(",")[0].split(";")[0].strip()
    return language_for(first) if first else API_LANGUAGE


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _coordinate(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ApiRefused(400, "open311.err_bad_coordinates") from None
    if not math.isfinite(value):
        raise ApiRefused(400, "open311.err_bad_coordinates")
    return value


def _date(query: Mapping[str, Any], name: str, tz: Any) -> datetime | None:
    text = (query.get(name) or "").strip()
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace(" ", "+") if "T" in text else text)
    except ValueError:
        raise ApiRefused(400, "open311.err_bad_date", field=name) from None
    return when if when.tzinfo else when.replace(tzinfo=tz)
