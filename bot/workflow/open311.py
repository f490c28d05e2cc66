"""The Open311 GeoReport v2 API's use-cases: the service list and definitions, filing a request (one transaction:
the ticket through ``Intake.register``, its contact and the request's extras), and the public views of requests
and of their updates, which are what ``/status`` shows (``Lookup``), no more.

A refusal is :class:`ApiRefused`: an HTTP status and the catalogue key of its description; nothing is written
before every check has passed.
"""

from __future__ import annotations

import asyncio
import html
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.config.city import Attribute, Category
from bot.domain import channels, geo
from bot.domain import open311 as spec
from bot.domain.lifecycle import TicketState
from bot.domain.numbers import BadNumber, parse_number
from bot.domain.photos import ImageRejected, check_image
from bot.domain.places import match_place
from bot.place_words import point_in_words
from bot.workflow.common import Refused, WorkflowDeps
from bot.workflow.intake import MAX_PLACE_TEXT, Filed, Intake
from bot.workflow.lookup import Lookup, StatusView
from storage import contacts
from storage import open311 as store
from storage.records import Photo, Ticket

#: The API's texts are in the city's language unless a client asks for another (Accept-Language).
API_LANGUAGE = "zh"
#: The longest answer kept for a string or text attribute.
MAX_ATTRIBUTE_CHARS = 500
MAX_CONTACT_CHARS = 200
MAX_MEDIA_URL_CHARS = 2000


class ApiRefused(Exception):
    """The request cannot be served: ``status`` (400, 403, 404, 413, 429) and the catalogue key saying why."""

    def __init__(self, status: int, key: str, **params: Any) -> None:
        super().__init__(f"{status} {key}")
        self.status = status
        self.key = key
        self.params = params


@dataclass(frozen=True)
class NewRequest:
    """A POST requests as the handler parsed it (strings stripped, empty ones None)."""

    client: str
    service_code: str | None
    lat: float | None = None
    lon: float | None = None
    address_string: str | None = None
    address_id: str | None = None
    description: str | None = None
    media_url: str | None = None
    attributes: Mapping[str, Sequence[str]] = field(default_factory=dict)
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    photos: Sequence[bytes] = ()


@dataclass(frozen=True)
class PublicRequest:
    """One service request as anyone may read it: what /status shows of the ticket."""

    service_request_id: str
    status: str
    status_notes: str
    service_name: str
    service_code: str
    description: str | None
    agency_responsible: str | None
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime | None
    address: str
    address_id: str | None


@dataclass(frozen=True)
class Update:
    update_id: str
    service_request_id: str
    status: str
    updated_datetime: datetime
    description: str


@dataclass(frozen=True)
class RequestQuery:
    numbers: Sequence[str] = ()
    service_codes: Sequence[str] = ()
    statuses: Sequence[str] = ()  # open | closed
    start: datetime | None = None
    end: datetime | None = None


class Open311:
    def __init__(self, deps: WorkflowDeps, intake: Intake, lookup: Lookup) -> None:
        self.d = deps
        self.intake = intake
        self.lookup = lookup

    # -- services ----------------------------------------------------------------------------------------

    def services(self) -> tuple[Category, ...]:
        return self.d.config.city.categories

    def service(self, code: str) -> Category:
        try:
            return self.d.config.city.category(code)
        except KeyError:
            raise ApiRefused(404, "open311.err_unknown_service", code=code[:40]) from None

    # -- POST requests -----------------------------------------------------------------------------------

    async def file(self, req: NewRequest) -> Ticket:
        """File the request as a ticket of channel open311, routed and carded like a resident's."""
        if not req.service_code:
            raise ApiRefused(400, "open311.err_missing", field="service_code")
        try:
            category = self.d.config.city.category(req.service_code)
        except KeyError:
            raise ApiRefused(400, "open311.err_unknown_service", code=req.service_code[:40]) from None
        filed_place = self._location(req)
        answers = self._answers(category, req.attributes)
        description = (req.description or "").strip()
        limit = self.d.config.intake.description_max_chars
        if len(description) > limit:
            raise ApiRefused(400, "open311.err_description_too_long", limit=limit)
        if len(req.photos) > self.d.config.intake.max_photos:
            raise ApiRefused(400, "open311.err_too_many_photos", limit=self.d.config.intake.max_photos)
        if req.media_url and (len(req.media_url) > MAX_MEDIA_URL_CHARS
                              or not req.media_url.startswith(("http://", "https://"))):
            raise ApiRefused(400, "open311.err_bad_media_url")
        photos = [await asyncio.to_thread(self._photo, i, data) for i, data in enumerate(req.photos)]
        text = description
        if answers:
            text = "\n".join(filter(None, [description, self._answers_line(category, answers)]))
        filed = Filed(category=category.key, description=text, **filed_place)
        name = _full_name(req.first_name, req.last_name)
        contact_given = any((name, req.phone, req.email, req.device_id, req.account_id))
        now = self.d.clock.now()

        def tx(c: sqlite3.Connection) -> Ticket:
            ticket = self.intake.register(
                c, filed, reporter_id=channels.reporter_for(channels.OPEN311), photos=photos, actor=("api", 0),
                now=now, channel=channels.OPEN311, channel_client=req.client)
            if contact_given:
                contacts.put(c, contacts.Contact(ticket.id, name=_cap(name), phone=_cap(req.phone),
                                                 email=_cap(req.email), device_id=_cap(req.device_id),
                                                 account_id=_cap(req.account_id)))
            store.put(c, store.RequestExtras(ticket.id, req.client, answers, req.media_url, req.address_string,
                                             req.address_id), now)
            return ticket

        return await self.d.write(tx)

    def _location(self, req: NewRequest) -> dict[str, Any]:
        city = self.d.config.city
        if (req.lat is None) != (req.lon is None):
            raise ApiRefused(400, "open311.err_missing", field="lat" if req.lat is None else "long")
        if req.lat is not None and req.lon is not None:
            if not geo.valid_coordinates(req.lat, req.lon):
                raise ApiRefused(400, "open311.err_bad_coordinates")
            if not city.bounds.contains(req.lat, req.lon):
                raise ApiRefused(400, "open311.err_outside", city=city.name_zh)
            return {"lat": req.lat, "lon": req.lon, "location_source": "gps"}
        if req.address_id:
            try:
                place = city.place(req.address_id)
            except KeyError:
                raise ApiRefused(400, "open311.err_unknown_address_id", address_id=req.address_id[:40]) from None
            return {"lat": place.lat, "lon": place.lon, "location_source": "place", "place_key": place.key}
        if req.address_string:
            text = req.address_string[:MAX_PLACE_TEXT]
            match = match_place(text, self.intake.place_names())
            if match.exact:
                place = city.place(match.exact)
                return {"lat": place.lat, "lon": place.lon, "location_source": "place", "place_key": place.key}
            return {"location_source": "text", "place_text": text}
        raise ApiRefused(400, "open311.err_location_required")

    @staticmethod
    def _answers(category: Category, given: Mapping[str, Sequence[str]]) -> dict[str, str | list[str]]:
        """The answers to the category's questions, checked against their datatypes; unknown codes are ignored."""
        answers: dict[str, str | list[str]] = {}
        for attr in category.attributes:
            values = [v.strip() for v in given.get(attr.code, ()) if v and v.strip()]
            if not values:
                if attr.required:
                    raise ApiRefused(400, "open311.err_attribute_required", code=attr.code)
                continue
            keys = {k for k, _ in attr.values}
            if attr.datatype == "multivaluelist":
                if any(v not in keys for v in values):
                    raise ApiRefused(400, "open311.err_attribute_value", code=attr.code)
                answers[attr.code] = list(dict.fromkeys(values))
                continue
            value = values[0]
            if len(values) > 1 or (attr.datatype == "singlevaluelist" and value not in keys):
                raise ApiRefused(400, "open311.err_attribute_value", code=attr.code)
            if attr.datatype == "number":
                try:
                    float(value)
                except ValueError:
                    raise ApiRefused(400, "open311.err_attribute_value", code=attr.code) from None
            if attr.datatype == "datetime":
                try:
                    datetime.fromisoformat(value)
                except ValueError:
                    raise ApiRefused(400, "open311.err_attribute_value", code=attr.code) from None
            answers[attr.code] = value[:MAX_ATTRIBUTE_CHARS]
        return answers

    def _answers_line(self, category: Category, answers: Mapping[str, str | list[str]]) -> str:
        """The answers in words, appended to the ticket's text so the unit's card shows them."""
        def words(attr: Attribute, value: str | list[str]) -> str:
            names = dict(attr.values)
            return "、".join(names.get(v, v) for v in ([value] if isinstance(value, str) else value))

        items = [self.d.texts.get(API_LANGUAGE, "open311.answer", question=a.description,
                                  answer=words(a, answers[a.code])) for a in category.attributes if a.code in answers]
        return self.d.texts.get(API_LANGUAGE, "open311.answers", items="；".join(items))

    def _photo(self, position: int, data: bytes) -> Photo:
        cfg = self.d.config.intake
        try:
            checked = check_image(data, max_bytes=cfg.max_image_bytes, max_pixels=cfg.max_image_pixels)
        except ImageRejected as rejected:
            reason = self.d.texts.get(API_LANGUAGE, f"photo.{rejected.reason}",
                                      max_mb=cfg.max_image_bytes // (1024 * 1024))
            raise ApiRefused(400, "open311.err_photo", reason=reason, position=position + 1) from None
        return Photo(position=position, source="photo", file_id=None, file_unique_id=None, data=checked.data,
                     width=checked.width, height=checked.height)

    # -- GET requests ------------------------------------------------------------------------------------

    async def request(self, service_request_id: str, lang: str = API_LANGUAGE) -> PublicRequest:
        try:
            view = await self.lookup.status(service_request_id)
        except (BadNumber, Refused):
            raise ApiRefused(404, "open311.err_unknown_request", id=service_request_id[:40]) from None
        return self.public(view, lang)

    async def requests(self, query: RequestQuery, lang: str = API_LANGUAGE) -> list[PublicRequest]:
        numbers = []
        for text in query.numbers:
            try:
                numbers.append(parse_number(text))
            except BadNumber:
                continue  # no ticket has it: like an unknown number, simply not in the answer
        if query.numbers and not numbers:
            return []
        end = query.end or self.d.clock.now()
        start = query.start or end - timedelta(days=spec.DEFAULT_DAYS)
        if start > end:
            raise ApiRefused(400, "open311.err_dates")
        for code in query.service_codes:
            self.service(code)  # 404 for a code we do not have
        states = [s.value for s in TicketState if spec.STATUS[s] in query.statuses] if query.statuses else []
        views = await self.lookup.search(numbers=numbers, categories=query.service_codes, states=states,
                                         since=start, until=end, limit=spec.MAX_ROWS)
        return [self.public(v, lang) for v in views]

    def public(self, view: StatusView, lang: str = API_LANGUAGE) -> PublicRequest:
        """A ticket's public view as a service request; its fields are those /status shows."""
        city, t, texts = self.d.config.city, view.ticket, self.d.texts
        if t.lat is not None and t.lon is not None and not t.place_key and not t.place_text:
            address = html.unescape(point_in_words(texts, lang, city, t.lat, t.lon))
        else:
            address = city.unit(t.district).name(lang) if t.district else texts.get(lang, "status.unknown_district")
        note = texts.get(lang, spec.NOTE_KEY[t.state])
        if view.merged_into:
            note = texts.get(lang, "open311.note_merged_into", number=view.merged_into)
        expected = t.due_at or (t.sign_due_at if t.state == TicketState.DISPATCHED else None)
        return PublicRequest(
            service_request_id=t.number, status=spec.STATUS[t.state], status_notes=note,
            service_name=city.category(t.category).name(lang), service_code=t.category,
            description=t.description if self.d.config.open311.descriptions_public else None,
            agency_responsible=city.unit(t.unit).name(lang) if t.unit else None,
            requested_datetime=t.created_at, updated_datetime=t.updated_at, expected_datetime=expected,
            address=address, address_id=t.place_key)

    # -- GET servicerequestupdates -----------------------------------------------------------------------

    async def updates(self, start: datetime | None, end: datetime | None, lang: str = API_LANGUAGE) -> list[Update]:
        """Every public event between the dates (by default the last day), oldest first; the event's id is the
        update's stable id, and its words are the plain status note of the state it left the ticket in."""
        end = end or self.d.clock.now()
        start = start or end - timedelta(days=1)
        if start > end:
            raise ApiRefused(400, "open311.err_dates")
        found = await self.d.db.read(lambda c: store.public_updates(c, start, end, spec.MAX_ROWS))
        out = []
        for u in found:
            state = TicketState(u.event.to_state or u.event.from_state or u.ticket_state)
            out.append(Update(update_id=str(u.event.id), service_request_id=u.number,
                              status=spec.UPDATE_STATUS[state], updated_datetime=u.event.at,
                              description=self.d.texts.get(lang, spec.NOTE_KEY[state])))
        return out


def _full_name(first: str | None, last: str | None) -> str | None:
    """王 + 芳 → 王芳 (family name first, no space, as Chinese names are written); Ada + Lovelace → Ada Lovelace."""
    if not (first and last):
        return first or last
    if all(ord(ch) > 0x2E7F for ch in first + last):  # CJK only
        return last + first
    return f"{first} {last}"


def _cap(text: str | None) -> str | None:
    return text[:MAX_CONTACT_CHARS] if text else None
