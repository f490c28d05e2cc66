"""Groups, migration, blocking, members, photos (EXIF stripped) and documents (kept byte-exact)."""

from __future__ import annotations

import io

import aiohttp
from PIL import Image

from sandbox.client import SandboxClient
from sandbox.server import Sandbox

from .conftest import TOKEN, Call, make_jpeg


async def _download(sandbox: Sandbox, call: Call, file_id: str) -> bytes:
    status, body = await call("getFile", file_id=file_id)
    assert status == 200
    async with aiohttp.ClientSession() as http, \
            http.get(f"{sandbox.file_base_url}{TOKEN}/{body['result']['file_path']}") as resp:
        assert resp.status == 200
        return await resp.read()


async def test_migrate_posts_service_messages_and_old_id_answers_400(call: Call, client: SandboxClient) -> None:
    alice = await client.create_user("Alice")
    group = await client.create_group("联络群", [alice["id"]])
    assert (await call("sendMessage", chat_id=group["id"], text="before"))[0] == 200
    migrated = await client.migrate(group["id"])
    new_id = migrated["new_chat_id"]
    assert str(new_id).startswith("-100")
    updates = (await call("getUpdates"))[1]["result"]
    assert updates[0]["message"]["migrate_to_chat_id"] == new_id
    assert updates[1]["message"]["migrate_from_chat_id"] == group["id"]
    assert updates[1]["message"]["chat"]["type"] == "supergroup"
    status, body = await call("sendMessage", chat_id=group["id"], text="after")
    assert (status, body["description"], body["parameters"]) == (
        400, "Bad Request: group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": new_id})
    assert (await call("sendMessage", chat_id=new_id, text="after"))[0] == 200
    member = (await call("getChatMember", chat_id=new_id, user_id=alice["id"]))[1]["result"]
    assert member["status"] == "creator"


async def test_blocking_the_bot(call: Call, client: SandboxClient) -> None:
    alice = await client.person("Alice")
    await alice.say("hi")
    await call("getUpdates", offset=-1)
    await alice.block()
    status, body = await call("sendMessage", chat_id=alice.id, text="x")
    assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")
    [update] = [u for u in (await call("getUpdates"))[1]["result"] if "my_chat_member" in u]
    assert update["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    await alice.block(False)
    assert (await call("sendMessage", chat_id=alice.id, text="x"))[0] == 200


async def test_members_and_administrators(call: Call, client: SandboxClient) -> None:
    alice = await client.create_user("Alice")
    bob = await client.create_user("Bob")
    carol = await client.create_user("Carol")
    group = await client.create_group("g", [alice["id"], bob["id"]], admin_ids=[bob["id"]], supergroup=True)
    statuses = {u["id"]: (await call("getChatMember", chat_id=group["id"], user_id=u["id"]))[1]["result"]["status"]
                for u in (alice, bob, carol)}
    assert statuses == {alice["id"]: "creator", bob["id"]: "administrator", carol["id"]: "left"}
    admins = (await call("getChatAdministrators", chat_id=group["id"]))[1]["result"]
    assert sorted(a["user"]["id"] for a in admins) == [alice["id"], bob["id"]]
    chat = (await call("getChat", chat_id=group["id"]))[1]["result"]
    assert (chat["type"], chat["title"]) == ("supergroup", "g")


async def test_photo_is_reencoded_without_exif_and_document_kept_exact(
        sandbox: Sandbox, call: Call, client: SandboxClient) -> None:
    alice = await client.person("Alice")
    original = make_jpeg((1600, 1200), gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the fixture really has GPS
    await alice.send_photo(original, caption="门口")
    await alice.send_document(original, "evidence.jpg", "image/jpeg")
    photo_msg, doc_msg = [u["message"] for u in (await call("getUpdates"))[1]["result"]]
    sizes = photo_msg["photo"]
    assert [(s["width"], s["height"]) for s in sizes] == [(90, 68), (320, 240), (1280, 960)]
    assert photo_msg["caption"] == "门口"
    assert len({s["file_id"] for s in sizes}) == 3
    big = await _download(sandbox, call, sizes[-1]["file_id"])
    image = Image.open(io.BytesIO(big))
    assert (image.format, image.size) == ("JPEG", (1280, 960))
    assert len(image.getexif()) == 0
    assert b"Exif" not in big[:200]
    assert doc_msg["document"]["file_name"] == "evidence.jpg"
    assert doc_msg["document"]["mime_type"] == "image/jpeg"
    assert await _download(sandbox, call, doc_msg["document"]["file_id"]) == original
    # file_unique_id is stable per content, file_id is not
    await alice.send_document(original, "again.jpg", "image/jpeg")
    again = (await call("getUpdates", offset=-1))[1]["result"][0]["message"]["document"]
    assert again["file_unique_id"] == doc_msg["document"]["file_unique_id"]
    assert again["file_id"] != doc_msg["document"]["file_id"]


async def test_bot_uploads_photo_media_group_and_document(
        sandbox: Sandbox, client: SandboxClient) -> None:
    alice = await client.person("Alice")
    await alice.say("hi")
    form = aiohttp.FormData()
    form.add_field("chat_id", str(alice.id))
    form.add_field("caption", "<b>证据</b>")
    form.add_field("parse_mode", "HTML")
    form.add_field("photo", make_jpeg((400, 300)), filename="p.jpg", content_type="image/jpeg")
    base = f"{sandbox.bot_base_url}{TOKEN}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/sendPhoto", data=form) as resp:
            body = await resp.json()
        assert body["result"]["caption"] == "证据"
        assert body["result"]["caption_entities"] == [{"type": "bold", "offset": 0, "length": 2}]
        assert body["result"]["photo"][-1]["width"] == 400
        reuse = body["result"]["photo"][-1]["file_id"]

        bad = aiohttp.FormData()
        bad.add_field("chat_id", str(alice.id))
        bad.add_field("photo", b"not an image", filename="p.jpg", content_type="image/jpeg")
        async with http.post(f"{base}/sendPhoto", data=bad) as resp:
            assert (resp.status, (await resp.json())["description"]) == (400, "Bad Request: IMAGE_PROCESS_FAILED")

        group = aiohttp.FormData()
        group.add_field("chat_id", str(alice.id))
        group.add_field("media", '[{"type": "photo", "media": "attach://a", "caption": "一"}, '
                                 f'{{"type": "photo", "media": "{reuse}"}}]')
        group.add_field("a", make_jpeg((100, 100), color="blue"), filename="a.jpg", content_type="image/jpeg")
        async with http.post(f"{base}/sendMediaGroup", data=group) as resp:
            album = (await resp.json())["result"]
        assert len(album) == 2
        assert album[0]["media_group_id"] == album[1]["media_group_id"]
        assert album[0]["caption"] == "一"
        assert album[1]["photo"][-1]["file_id"] == reuse

        doc = aiohttp.FormData()
        doc.add_field("chat_id", str(alice.id))
        doc.add_field("document", b"a,b\n1,2\n", filename="report.csv", content_type="text/csv")
        async with http.post(f"{base}/sendDocument", data=doc) as resp:
            document = (await resp.json())["result"]["document"]
        assert (document["file_name"], document["mime_type"], document["file_size"]) == ("report.csv", "text/csv", 8)
    kinds = [m["kind"] for m in await client.events(alice.id)]
    assert kinds == ["message"] * 4


async def test_album_from_a_user_shares_one_media_group(call: Call, client: SandboxClient) -> None:
    alice = await client.person("Alice")
    await alice.send_album([make_jpeg(color="red"), make_jpeg(color="green"), make_jpeg(color="blue")], caption="三张")
    messages = [u["message"] for u in (await call("getUpdates"))[1]["result"]]
    assert len(messages) == 3
    assert len({m["media_group_id"] for m in messages}) == 1
    assert [m.get("caption") for m in messages] == ["三张", None, None]
    assert [m["message_id"] for m in messages] == [1, 2, 3]
