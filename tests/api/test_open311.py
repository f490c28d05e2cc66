"""The Open311 GeoReport v2 API over HTTP (aiohttp's test server on a real port), every endpoint in XML and JSON
and every refusal: JSON answers are validated against the official schemas (tests/data/open311/), XML answers are
read with the spec's element names, and after each refusal the database holds nothing of it."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest
from aiohttp.test_utils import TestClient, TestServer
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from bot.api.server import ApiServer, key_digest
from bot.clock import FakeClock
from bot.config import Open311Client, load_config
from bot.services import Services
from storage import contacts, tickets
from storage import open311 as store
from storage.db import Database
from tests.e2e.talk import say
from tests.images import jpeg, jpeg_with_gps

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tests/data/open311"
BASE = "/open311/v2"
KEY, SLOW_KEY = "test-key-of-the-mini-program", "test-key-of-a-slow-client"
JURISDICTION = "fuyang.gov.cn"
YINGZHOU = (32.8830, 115.8120)  # 颍州区
GOOD = {"service_code": "municipal", "lat": str(YINGZHOU[0]), "long": str(YINGZHOU[1]),
        "attribute[facility]": "street_light", "description": "路口的路灯坏了三天，晚上一片漆黑。",
        "email": "wang.fang@example.cn", "first_name": "芳", "last_name": "王", "phone": "13912345678",
        "device_id": "device-77", "account_id": "acct-42"}
CONTACT_WORDS = ("wang.fang@example.cn", "13912345678", "王芳", "device-77", "acct-42")


def _validator(name: str) -> jsonschema.Draft4Validator:
    registry: Registry = Registry()
    for file in ("request.json", "service.json"):
        registry = registry.with_resource(file, Resource.from_contents(
            json.loads((SCHEMAS / file).read_text()), default_specification=DRAFT4))
    schema = json.loads((SCHEMAS / name).read_text())
    return jsonschema.Draft4Validator(schema, registry=registry, format_checker=jsonschema.FormatChecker())


class Api:
    def __init__(self, client: TestClient, services: Services, clock: FakeClock) -> None:
        self.http = client
        self.s = services
        self.clock = clock

    async def get(self, path: str, **params: str) -> tuple[int, str, str, Any]:
        async with self.http.get(BASE + path, params=params) as r:
            return await self._read(r, path)

    async def post(self, path: str = "/requests.json", data: Any = None, **kw: Any) -> tuple[int, str, str, Any]:
        async with self.http.post(BASE + path, data=data, **kw) as r:
            return await self._read(r, path)

    @staticmethod
    async def _read(r: aiohttp.ClientResponse, path: str) -> tuple[int, str, str, Any]:
        raw = await r.text()
        content_type = r.headers["Content-Type"]
        parsed = json.loads(raw) if path.endswith(".json") else ET.fromstring(raw.encode())
        return r.status, content_type, raw, parsed

    async def count(self) -> tuple[int, int, int, int]:
        """(tickets, contacts, open311 rows, photos): what a refusal must leave as it was."""
        def q(c):
            return tuple(c.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                         for t in ("tickets", "ticket_contacts", "open311_requests", "ticket_photos"))
        return await self.s.db.read(q)


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    cfg = load_config(ROOT / "config.example.toml")
    cfg = dataclasses.replace(
        cfg, storage=dataclasses.replace(cfg.storage, database=tmp_path / "api.sqlite3"),
        open311=dataclasses.replace(cfg.open311, enabled=True, jurisdiction_id=JURISDICTION,
                                    max_body_bytes=3 * 1024 * 1024, clients=(
                                        Open311Client("mini_program", key_digest(KEY)),
                                        Open311Client("slow", key_digest(SLOW_KEY), requests_per_minute=2))),
        intake=dataclasses.replace(cfg.intake, max_image_bytes=1024 * 1024))
    db = await Database.open(cfg.storage.database)
    clock = FakeClock()
    services = Services.build(cfg, db, clock)
    async with TestClient(TestServer(ApiServer(services).make_app())) as client:
        yield Api(client, services, clock)
    await db.close()


def _error(parsed: Any, fmt: str) -> tuple[int, str]:
    if fmt == "json":
        assert isinstance(parsed, list) and len(parsed) == 1 and set(parsed[0]) == {"code", "description"}
        return parsed[0]["code"], parsed[0]["description"]
    assert parsed.tag == "errors" and [e.tag for e in parsed] == ["error"]
    return int(parsed.find("error/code").text), parsed.find("error/description").text


# -- GET services ------------------------------------------------------------------------------------------------

async def test_services_list_our_categories_in_json_and_xml(api: Api) -> None:
    status, content_type, _, listed = await api.get("/services.json")
    assert status == 200 and content_type == "application/json; charset=utf-8"
    _validator("services.json").validate(listed)
    city = api.s.config.city
    assert [s["service_code"] for s in listed] == [c.key for c in city.categories]
    municipal = next(s for s in listed if s["service_code"] == "municipal")
    assert municipal["service_name"] == "市政设施" and municipal["metadata"] is True
    assert municipal["group"] == "市容市政" and municipal["type"] == "realtime" and "路灯" in municipal["keywords"]
    assert next(s for s in listed if s["service_code"] == "housing")["metadata"] is False

    status, content_type, _, root = await api.get("/services.xml")
    assert status == 200 and content_type == "text/xml; charset=utf-8"
    assert root.tag == "services" and len(root) == len(city.categories)
    first = root.find("service")
    assert [e.tag for e in first] == ["service_code", "service_name", "description", "metadata", "type",
                                      "keywords", "group"]
    xml_municipal = next(s for s in root if s.findtext("service_code") == "municipal")
    assert xml_municipal.findtext("metadata") == "true" and xml_municipal.findtext("service_name") == "市政设施"


async def test_a_service_definition_lists_its_attributes(api: Api) -> None:
    status, _, _, definition = await api.get("/services/municipal.json")
    assert status == 200
    _validator("service-definition.json").validate(definition)
    (facility,) = definition["attributes"]
    assert (facility["code"], facility["datatype"], facility["required"], facility["order"]) == (
        "facility", "singlevaluelist", True, 1)
    assert {"key": "street_light", "name": "路灯"} in facility["values"]

    status, _, _, root = await api.get("/services/municipal.xml", jurisdiction_id=JURISDICTION)
    assert status == 200 and root.tag == "service_definition" and root.findtext("service_code") == "municipal"
    attribute = root.find("attributes/attribute")
    assert attribute.findtext("variable") == "true" and attribute.findtext("datatype") == "singlevaluelist"
    values = [(v.findtext("key"), v.findtext("name")) for v in attribute.findall("values/value")]
    assert values[:2] == [("street_light", "路灯"), ("road", "路面")]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_an_unknown_service_or_endpoint_or_jurisdiction_is_404(api: Api, fmt: str) -> None:
    status, _, _, parsed = await api.get(f"/services/nonsense.{fmt}")
    assert status == 404 and _error(parsed, fmt) == (404, say("zh", "open311.err_unknown_service", code="nonsense"))
    status, _, _, parsed = await api.get(f"/whatever.{fmt}")
    assert status == 404 and _error(parsed, fmt)[0] == 404
    status, _, _, parsed = await api.get(f"/services.{fmt}", jurisdiction_id="elsewhere.gov")
    assert status == 404 and _error(parsed, fmt) == (
        404, say("zh", "open311.err_jurisdiction", jurisdiction_id="elsewhere.gov"))


# -- POST requests -----------------------------------------------------------------------------------------------

async def test_a_good_post_files_a_routed_ticket_with_its_contact_and_answers(api: Api) -> None:
    status, _, raw, answer = await api.post(data={**GOOD, "api_key": KEY, "jurisdiction_id": JURISDICTION,
                                                  "media_url": "https://img.example.cn/p/1.jpg"})
    assert status == 200, raw
    (created,) = answer
    number = created["service_request_id"]
    assert created["service_notice"] == say("zh", "open311.note_registered")
    assert not any(word in raw for word in CONTACT_WORDS)

    t = await api.s.db.read(lambda c: tickets.by_number(c, number))
    assert (t.channel, t.channel_client, t.reporter_id, t.category) == ("open311", "mini_program", -2, "municipal")
    assert t.state == "dispatched" and t.unit == "yingzhou" and t.sign_due_at is not None  # routed, clock runs
    assert (t.lat, t.lon, t.location_source) == (*YINGZHOU, "gps")
    assert "路灯坏了三天" in t.description and "哪一类设施？路灯" in t.description  # the card shows the answer
    contact = await api.s.db.read(lambda c: contacts.get(c, t.id))
    assert (contact.name, contact.phone, contact.email, contact.device_id, contact.account_id) == (
        "王芳", "13912345678", "wang.fang@example.cn", "device-77", "acct-42")
    extras = await api.s.db.read(lambda c: store.get(c, t.id))
    assert extras.attributes == {"facility": "street_light"}
    assert extras.media_url == "https://img.example.cn/p/1.jpg" and extras.client == "mini_program"
    events = await api.s.db.read(lambda c: tickets.events(c, t.id))
    assert [(e.action, e.actor_kind) for e in events][:2] == [("registered", "api"), ("dispatched", "system")]


async def test_a_multipart_post_keeps_its_photos_without_exif(api: Api) -> None:
    form = aiohttp.FormData()
    for name, value in {**GOOD, "api_key": KEY}.items():
        form.add_field(name, value)
    form.add_field("media", jpeg_with_gps(*YINGZHOU), filename="a.jpg", content_type="image/jpeg")
    form.add_field("media", jpeg(), filename="b.jpg", content_type="image/jpeg")
    status, _, raw, answer = await api.post("/requests.xml", data=form)
    assert status == 200, raw
    assert answer.tag == "service_requests"
    number = answer.findtext("request/service_request_id")
    t = await api.s.db.read(lambda c: tickets.by_number(c, number))
    photos = await api.s.db.read(lambda c: tickets.photos_of(c, t.id))
    assert len(photos) == 2
    import io

    from PIL import Image
    for _, photo in photos:
        with Image.open(io.BytesIO(photo.data)) as image:
            assert image.format == "JPEG" and not image.getexif()


async def test_a_typed_address_is_matched_to_our_places_or_kept_as_text(api: Api) -> None:
    place = api.s.config.city.places[0]
    status, _, raw, answer = await api.post(data={"api_key": KEY, "service_code": "housing",
                                                  "address_string": place.name_zh, "description": "电梯坏了一周。"})
    assert status == 200, raw
    t = await api.s.db.read(lambda c: tickets.by_number(c, answer[0]["service_request_id"]))
    assert (t.place_key, t.location_source, t.district) == (place.key, "place", place.unit)
    status, _, raw, answer = await api.post(data={"api_key": KEY, "service_code": "housing",
                                                  "address_string": "某某小区 3 栋", "description": "电梯坏了一周。"})
    t = await api.s.db.read(lambda c: tickets.by_number(c, answer[0]["service_request_id"]))
    assert (t.place_key, t.location_source, t.place_text) == (None, "text", "某某小区 3 栋")
    status, _, raw, answer = await api.post(data={"api_key": KEY, "service_code": "housing",
                                                  "address_id": place.key})
    t = await api.s.db.read(lambda c: tickets.by_number(c, answer[0]["service_request_id"]))
    assert t.place_key == place.key


REFUSALS = [
    # (what is wrong, form, status, catalogue key and params)
    ("no api_key", {k: v for k, v in GOOD.items()}, 403, ("open311.err_api_key", {})),
    ("a wrong api_key", {**GOOD, "api_key": "guess"}, 403, ("open311.err_api_key", {})),
    ("no service_code", {**{k: v for k, v in GOOD.items() if k != "service_code"}, "api_key": KEY}, 400,
     ("open311.err_missing", {"field": "service_code"})),
    ("an unknown service", {**GOOD, "service_code": "spaceships", "api_key": KEY}, 400,
     ("open311.err_unknown_service", {"code": "spaceships"})),
    ("no location", {**{k: v for k, v in GOOD.items() if k not in ("lat", "long")}, "api_key": KEY}, 400,
     ("open311.err_location_required", {})),
    ("lat without long", {**{k: v for k, v in GOOD.items() if k != "long"}, "api_key": KEY}, 400,
     ("open311.err_missing", {"field": "long"})),
    ("bad coordinates", {**GOOD, "lat": "91.5", "api_key": KEY}, 400, ("open311.err_bad_coordinates", {})),
    ("words for coordinates", {**GOOD, "lat": "north", "api_key": KEY}, 400, ("open311.err_bad_coordinates", {})),
    ("a point outside the city", {**GOOD, "lat": "39.9", "long": "116.4", "api_key": KEY}, 400,
     ("open311.err_outside", {"city": "阜阳市"})),
    ("an unknown address_id", {**{k: v for k, v in GOOD.items() if k not in ("lat", "long")}, "address_id": "moon",
                               "api_key": KEY}, 400, ("open311.err_unknown_address_id", {"address_id": "moon"})),
    ("a required attribute missing", {**{k: v for k, v in GOOD.items() if not k.startswith("attribute")},
                                      "api_key": KEY}, 400, ("open311.err_attribute_required", {"code": "facility"})),
    ("an attribute value not in the list", {**GOOD, "attribute[facility]": "volcano", "api_key": KEY}, 400,
     ("open311.err_attribute_value", {"code": "facility"})),
    ("a foreign jurisdiction", {**GOOD, "api_key": KEY, "jurisdiction_id": "elsewhere.gov"}, 404,
     ("open311.err_jurisdiction", {"jurisdiction_id": "elsewhere.gov"})),
    ("a media_url that is no URL", {**GOOD, "api_key": KEY, "media_url": "javascript:alert(1)"}, 400,
     ("open311.err_bad_media_url", {})),
    ("a description over the limit", {**GOOD, "api_key": KEY, "description": "长" * 1501}, 400,
     ("open311.err_description_too_long", {"limit": 1500})),
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(("what", "form", "status", "expected"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_a_bad_post_is_refused_in_the_spec_shape_and_writes_nothing(
        api: Api, fmt: str, what: str, form: dict, status: int, expected: tuple[str, dict]) -> None:
    before = await api.count()
    got, content_type, raw, parsed = await api.post(f"/requests.{fmt}", data=form)
    assert got == status, raw
    assert content_type == ("application/json; charset=utf-8" if fmt == "json" else "text/xml; charset=utf-8")
    key, params = expected
    assert _error(parsed, fmt) == (status, say("zh", key, **params))
    assert await api.count() == before, what


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_a_bad_photo_is_refused_and_nothing_is_written(api: Api, fmt: str) -> None:
    for data, reason in ((b"%PDF-1.4 not a picture", "not_an_image"), (jpeg() + b"\0" * (1024 * 1024), "big")):
        form = aiohttp.FormData()
        for name, value in {**GOOD, "api_key": KEY}.items():
            form.add_field(name, value)
        form.add_field("media", jpeg(), filename="ok.jpg", content_type="image/jpeg")
        form.add_field("media", data, filename="x.jpg", content_type="image/jpeg")
        before = await api.count()
        status, _, raw, parsed = await api.post(f"/requests.{fmt}", data=form)
        assert status == 400, raw
        code, description = _error(parsed, fmt)
        words = say("zh", "photo.too_big_bytes", max_mb=1) if reason == "big" else say("zh", "photo.not_an_image")
        assert code == 400 and description == say("zh", "open311.err_photo", position=2, reason=words)
        assert await api.count() == before


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_too_many_photos_or_a_body_of_another_kind_is_400(api: Api, fmt: str) -> None:
    before = await api.count()
    form = aiohttp.FormData()
    for name, value in {**GOOD, "api_key": KEY}.items():
        form.add_field(name, value)
    for i in range(api.s.config.intake.max_photos + 1):
        form.add_field("media", jpeg(64, 48), filename=f"{i}.jpg", content_type="image/jpeg")
    status, _, raw, parsed = await api.post(f"/requests.{fmt}", data=form)
    assert status == 400, raw
    assert _error(parsed, fmt) == (400, say("zh", "open311.err_too_many_photos", limit=6))
    status, _, raw, parsed = await api.post(f"/requests.{fmt}", data=json.dumps({**GOOD, "api_key": KEY}),
                                            headers={"Content-Type": "application/json"})
    assert status == 400 and _error(parsed, fmt) == (400, say("zh", "open311.err_bad_form"))
    assert await api.count() == before


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_a_body_over_the_limit_is_413_before_it_is_read(api: Api, fmt: str) -> None:
    before = await api.count()
    big = {**GOOD, "api_key": KEY, "description": "很" * (3 * 1024 * 1024)}  # form-encoded, over max_body_bytes
    status, _, raw, parsed = await api.post(f"/requests.{fmt}", data=big)
    assert status == 413, raw
    assert _error(parsed, fmt) == (413, say("zh", "open311.err_too_large", limit=3 * 1024 * 1024))
    form = aiohttp.FormData()  # multipart with photos that add up to more than the body may hold
    for name, value in {**GOOD, "api_key": KEY}.items():
        form.add_field(name, value)
    for i in range(4):
        form.add_field("media", jpeg() + bytes(900 * 1024), filename=f"{i}.jpg", content_type="image/jpeg")
    status, _, raw, parsed = await api.post(f"/requests.{fmt}", data=form)
    assert status == 413 and _error(parsed, fmt)[0] == 413
    assert await api.count() == before


@pytest.mark.parametrize(("photo_kb", "photos", "status"), [(900, 12, 413), (2048, 1, 400)])
async def test_a_chunked_body_is_counted_as_it_comes_and_cut_off(api: Api, photo_kb: int, photos: int,
                                                                 status: int) -> None:
    """No Content-Length to refuse up front: the parts are counted while read, and reading stops once the body
    passes max_body_bytes (3 MiB here: 413) or a photo passes the image cap (1 MiB here: 400)."""
    boundary = "b0undary"
    head = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                   for k, v in {**GOOD, "api_key": KEY}.items()).encode()
    async def body():
        yield head
        for i in range(photos):
            yield (f'--{boundary}\r\nContent-Disposition: form-data; name="media"; filename="{i}.jpg"\r\n'
                   "Content-Type: image/jpeg\r\n\r\n").encode()
            for _ in range(photo_kb // 64):
                yield b"\xff" * (64 * 1024)
            yield b"\r\n"
        yield f"--{boundary}--\r\n".encode()

    before = await api.count()
    async with api.http.post(f"{BASE}/requests.json", data=body(),
                             headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}) as r:
        assert r.status == status
        code, description = _error(json.loads(await r.text()), "json")
    assert code == status
    if status == 413:
        assert description == say("zh", "open311.err_too_large", limit=3 * 1024 * 1024)
    else:
        assert description == say("zh", "open311.err_photo", position=1,
                                  reason=say("zh", "photo.too_big_bytes", max_mb=1))
    assert await api.count() == before


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_a_client_over_its_rate_gets_429_with_retry_after(api: Api, fmt: str) -> None:
    form = {**GOOD, "api_key": SLOW_KEY}
    for _ in range(2):
        status, _, raw, _ = await api.post(f"/requests.{fmt}", data=form)
        assert status == 200, raw
    before = await api.count()
    async with api.http.post(f"{BASE}/requests.{fmt}", data=form) as r:
        assert r.status == 429 and r.headers["Retry-After"] == "60"
        parsed = json.loads(await r.text()) if fmt == "json" else ET.fromstring((await r.text()).encode())
    assert _error(parsed, fmt) == (429, say("zh", "open311.err_rate", seconds=60))
    assert await api.count() == before
    status, _, _, _ = await api.post(f"/requests.{fmt}", data={**GOOD, "api_key": KEY})  # others are not held up
    assert status == 200
    api.clock.advance(timedelta(seconds=61))
    status, _, _, _ = await api.post(f"/requests.{fmt}", data=form)
    assert status == 200


# -- GET requests ------------------------------------------------------------------------------------------------

async def _file(api: Api, **form: str) -> str:
    status, _, raw, answer = await api.post(data={**GOOD, "api_key": KEY, **form})
    assert status == 200, raw
    return answer[0]["service_request_id"]


async def test_one_request_shows_what_status_shows_and_no_contact(api: Api) -> None:
    number = await _file(api)
    status, _, raw, found = await api.get(f"/requests/{number}.json")
    assert status == 200
    _validator("requests.json").validate(found)
    (r,) = found
    assert (r["service_request_id"], r["status"], r["service_code"], r["service_name"]) == (
        number, "open", "municipal", "市政设施")
    assert r["status_notes"] == say("zh", "open311.note_dispatched")
    assert r["agency_responsible"] == "颍州区" and r["address"].startswith("颍州区")
    assert r["requested_datetime"] == "2026-03-02T10:00:00+08:00"  # the city's offset
    assert r["expected_datetime"] is not None
    assert r["description"] is None and r["lat"] is None and r["long"] is None  # not public
    assert not any(word in raw for word in (*CONTACT_WORDS, "路灯坏了三天"))

    status, content_type, raw, root = await api.get(f"/requests/{number}.xml")
    assert status == 200 and content_type == "text/xml; charset=utf-8"
    assert root.tag == "service_requests" and root.findtext("request/service_request_id") == number
    assert root.findtext("request/status") == "open" and root.findtext("request/agency_responsible") == "颍州区"
    assert not any(word in raw for word in CONTACT_WORDS)


async def test_descriptions_are_shown_only_where_the_city_makes_them_public(api: Api) -> None:
    number = await _file(api)
    api.s.config = dataclasses.replace(api.s.config, open311=dataclasses.replace(
        api.s.config.open311, descriptions_public=True))
    api.s.intake.d.config = api.s.config
    _, _, _, found = await api.get(f"/requests/{number}.json")
    assert "路灯坏了三天" in found[0]["description"]
    odd = await _file(api, description="路灯\x07坏了\x00三天，晚上很黑。")  # characters XML cannot carry
    status, _, _, root = await api.get(f"/requests/{odd}.xml")
    assert status == 200 and root.findtext("request/description").startswith("路灯坏了三天")


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_an_unknown_request_is_404(api: Api, fmt: str) -> None:
    for wrong in ("000000000", "garbage"):
        status, _, _, parsed = await api.get(f"/requests/{wrong}.{fmt}")
        assert status == 404 and _error(parsed, fmt) == (404, say("zh", "open311.err_unknown_request", id=wrong))


async def test_requests_are_filtered_by_id_code_status_and_dates(api: Api) -> None:
    first = await _file(api)
    api.clock.advance(timedelta(days=2))
    second = await _file(api, service_code="housing", description="电梯坏了一周。")
    api.clock.advance(timedelta(days=100))
    third = await _file(api)

    async def numbers(**params: str) -> list[str]:
        status, _, raw, found = await api.get("/requests.json", **params)
        assert status == 200, raw
        if found:
            _validator("requests.json").validate(found)
        return [r["service_request_id"] for r in found]

    assert await numbers() == [third]  # the last 90 days by default
    assert await numbers(start_date="2026-03-01T00:00:00+08:00") == [third, second, first]
    assert await numbers(start_date="2026-03-01T00:00:00+08:00", service_code="housing") == [second]
    assert await numbers(start_date="2026-03-01T00:00:00+08:00", end_date="2026-03-03T00:00:00+08:00") == [first]
    assert await numbers(service_request_id=f"{first},{third},123456789") == [third, first]  # overrides the rest
    assert await numbers(start_date="2026-03-01T00:00:00Z", status="closed") == []
    assert await numbers(start_date="2026-03-01T00:00:00Z", status="open") == [third, second, first]
    status, _, _, root = await api.get("/requests.xml", service_request_id=second)
    assert status == 200 and [r.findtext("service_request_id") for r in root.findall("request")] == [second]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_bad_filters_are_400(api: Api, fmt: str) -> None:
    for params, key, extra in ((dict(start_date="yesterday"), "open311.err_bad_date", {"field": "start_date"}),
                               (dict(end_date="2026-13-01"), "open311.err_bad_date", {"field": "end_date"}),
                               (dict(status="pending"), "open311.err_bad_status", {}),
                               (dict(start_date="2026-03-05T00:00:00Z", end_date="2026-03-01T00:00:00Z"),
                                "open311.err_dates", {})):
        status, _, _, parsed = await api.get(f"/requests.{fmt}", **params)
        assert status == 400 and _error(parsed, fmt) == (400, say("zh", key, **extra)), params
    status, _, _, parsed = await api.get(f"/requests.{fmt}", service_code="spaceships")
    assert status == 404 and _error(parsed, fmt)[0] == 404


# -- GET servicerequestupdates -----------------------------------------------------------------------------------

async def test_updates_list_public_events_with_stable_ids(api: Api) -> None:
    number = await _file(api)
    status, content_type, raw, root = await api.get("/servicerequestupdates.xml")
    assert status == 200 and content_type == "text/xml; charset=utf-8"
    assert root.tag == "service_requests_updates"
    updates = root.findall("request_update")
    assert [(u.findtext("service_request_id"), u.findtext("status")) for u in updates] == [
        (number, "open"), (number, "open")]
    assert [e.tag for e in updates[0]] == ["update_id", "service_request_id", "status", "updated_datetime",
                                            "description", "media_url"]
    assert updates[1].findtext("description") == say("zh", "open311.note_dispatched")
    assert not any(word in raw for word in CONTACT_WORDS)
    _, _, _, again = await api.get("/servicerequestupdates.json")
    assert [u["update_id"] for u in again] == [u.findtext("update_id") for u in updates]
    assert again[0]["updated_datetime"] == "2026-03-02T10:00:00+08:00"
    _, _, _, none = await api.get("/servicerequestupdates.json", start_date="2026-03-03T00:00:00+08:00",
                                  end_date="2026-03-04T00:00:00+08:00")
    assert none == []
    status, _, _, parsed = await api.get("/servicerequestupdates.json", start_date="soon")
    assert status == 400 and _error(parsed, "json")[0] == 400


async def test_english_is_given_to_who_asks_for_it(api: Api) -> None:
    async with api.http.get(f"{BASE}/requests/123.json", headers={"Accept-Language": "en-GB,en;q=0.9"}) as r:
        assert r.status == 404
        assert (await r.json())[0]["description"] == say("en", "open311.err_unknown_request", id="123")


async def test_a_get_needs_no_key_but_one_it_carries_is_checked_and_rated(api: Api) -> None:
    status, _, _, parsed = await api.get("/services.json", api_key="guess")
    assert status == 403 and _error(parsed, "json") == (403, say("zh", "open311.err_api_key"))
    for _ in range(2):
        status, _, _, _ = await api.get("/servicerequestupdates.json", api_key=SLOW_KEY)
        assert status == 200
    status, _, _, parsed = await api.get("/servicerequestupdates.xml", api_key=SLOW_KEY)
    assert status == 429 and _error(parsed, "xml")[0] == 429
    for _ in range(3):
        status, _, _, _ = await api.get("/services.json")
        assert status == 200
