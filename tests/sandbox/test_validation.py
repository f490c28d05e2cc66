"""Raw Bot API calls: Telegram's answers and error codes for malformed requests."""

from __future__ import annotations

import aiohttp

from sandbox.client import SandboxClient
from sandbox.server import Sandbox

from .conftest import OTHER_TOKEN, TOKEN, Call

NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message")


async def _started_user(client: SandboxClient) -> int:
    user = await client.create_user("Han")
    await client.send(user["id"], text="hi")
    return int(user["id"])


async def test_get_me_reflects_token_and_registered_username(call: Call, client: SandboxClient) -> None:
    status, body = await call("getMe")
    assert status == 200
    assert body["result"]["id"] == 123456
    assert body["result"]["is_bot"] is True
    assert body["result"]["username"] == "test_complaint_bot"
    _, other = await call("getMe", _token=OTHER_TOKEN)
    assert other["result"]["username"] == "sandbox_654321_bot"


async def test_unknown_method_and_bad_tokens(call: Call, sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    assert await call("noSuchMethod") == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert await call("getMe", _token="123:short") == (
        401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    status, _ = await call("getMe", _token="not-a-token")
    assert status == 404


async def test_method_names_are_case_insensitive_and_get_with_query_works(
        sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{sandbox.bot_base_url}{TOKEN}/GETME") as resp:
        assert resp.status == 200
        assert (await resp.json())["result"]["id"] == 123456
    async with http.get(f"{sandbox.bot_base_url}{TOKEN}/getUpdates", params={"timeout": "0"}) as resp:
        assert (await resp.json()) == {"ok": True, "result": []}


async def test_text_validation(call: Call, client: SandboxClient) -> None:
    uid = await _started_user(client)
    assert (await call("sendMessage", chat_id=uid, text="  "))[1]["description"] == \
        "Bad Request: message text is empty"
    status, body = await call("sendMessage", chat_id=uid, text="x" * 4097)
    assert (status, body["description"]) == (400, "Bad Request: message is too long")
    # the limit counts the text after entity parsing: 4096 visible characters wrapped in tags is fine
    status, body = await call("sendMessage", chat_id=uid, text="<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    assert status == 200
    assert body["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 4096}]
    status, body = await call("sendMessage", chat_id=uid, text="x" * 4000 + "<b>" + "y" * 97 + "</b>",
                              parse_mode="HTML")
    assert (status, body["description"]) == (400, "Bad Request: message is too long")


async def test_html_must_use_known_balanced_tags(call: Call, client: SandboxClient) -> None:
    uid = await _started_user(client)
    for bad in ("<b>open", "<blink>x</blink>", "<b>x</i>", "x</b>", "a < b"):
        status, body = await call("sendMessage", chat_id=uid, text=bad, parse_mode="HTML")
        assert status == 400, bad
        assert body["description"].startswith("Bad Request: can't parse entities: "), bad
    status, body = await call("sendMessage", chat_id=uid, parse_mode="HTML",
                              text='<b>粗</b> &lt;ok&gt; <a href="https://x.cn">link</a>')
    assert status == 200
    assert body["result"]["text"] == "粗 <ok> link"
    assert body["result"]["entities"][1] == {"type": "text_link", "offset": 7, "length": 4, "url": "https://x.cn"}


async def test_markdown_v2_reserved_characters(call: Call, client: SandboxClient) -> None:
    uid = await _started_user(client)
    status, body = await call("sendMessage", chat_id=uid, text="Ticket No. 5", parse_mode="MarkdownV2")
    assert status == 400
    assert "Character '.' is reserved" in body["description"]
    status, body = await call("sendMessage", chat_id=uid, text=r"*Ticket* No\. 5", parse_mode="MarkdownV2")
    assert status == 200
    assert body["result"]["text"] == "Ticket No. 5"


async def test_chat_reachability_errors(call: Call, client: SandboxClient) -> None:
    assert (await call("sendMessage", chat_id=999, text="x"))[1]["description"] == "Bad Request: chat not found"
    stranger = await client.create_user("Stranger")
    status, body = await call("sendMessage", chat_id=stranger["id"], text="x")
    assert (status, body["description"]) == (403, "Forbidden: bot can't initiate conversation with a user")
    group = await client.create_group("liaison", [stranger["id"]], bot_tokens=[OTHER_TOKEN])
    status, body = await call("sendMessage", chat_id=group["id"], text="x")
    assert (status, body["description"]) == (403, "Forbidden: bot is not a member of the group chat")
    assert (await call("sendMessage", chat_id=group["id"], text="x", _token=OTHER_TOKEN))[0] == 200


async def test_inline_keyboard_validation(call: Call, client: SandboxClient) -> None:
    uid = await _started_user(client)

    def kb(**button: str) -> dict:
        return {"inline_keyboard": [[{"text": "按钮", **button}]]}

    ok_data = "类" * 21 + "a"  # 64 bytes in UTF-8
    assert (await call("sendMessage", chat_id=uid, text="k", reply_markup=kb(callback_data=ok_data)))[0] == 200
    status, body = await call("sendMessage", chat_id=uid, text="k", reply_markup=kb(callback_data="类" * 21 + "ab"))
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")
    status, body = await call("sendMessage", chat_id=uid, text="k", reply_markup=kb(callback_data=""))
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")
    status, body = await call("sendMessage", chat_id=uid, text="k", reply_markup=kb())
    assert (status, body["description"]) == (400, "Bad Request: text buttons are unallowed in the inline keyboard")
    status, _ = await call("sendMessage", chat_id=uid, text="k", reply_markup=kb(callback_data="a", url="https://a"))
    assert status == 400
    status, _ = await call("sendMessage", chat_id=uid, text="k", reply_markup="{not json")
    assert status == 400
    reply_kb = {"keyboard": [[{"text": "位置", "request_location": True}], ["取消"]], "resize_keyboard": True,
                "one_time_keyboard": True}
    status, body = await call("sendMessage", chat_id=uid, text="k", reply_markup=reply_kb)
    assert status == 200
    assert "reply_markup" not in body["result"]  # only inline keyboards appear in a Message
    for markup in ({"remove_keyboard": True}, {"force_reply": True}):
        assert (await call("sendMessage", chat_id=uid, text="k", reply_markup=markup))[0] == 200


async def test_edit_rules(call: Call, client: SandboxClient) -> None:
    uid = await _started_user(client)
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    _, sent = await call("sendMessage", chat_id=uid, text="v1", reply_markup=markup)
    mid = sent["result"]["message_id"]
    status, body = await call("editMessageText", chat_id=uid, message_id=mid + 50, text="x")
    assert (status, body["description"]) == (400, "Bad Request: message to edit not found")
    status, body = await call("editMessageText", chat_id=uid, message_id=mid, text="v1", reply_markup=markup)
    assert (status, body["description"]) == (400, NOT_MODIFIED)
    status, body = await call("editMessageReplyMarkup", chat_id=uid, message_id=mid, reply_markup=markup)
    assert (status, body["description"]) == (400, NOT_MODIFIED)
    status, body = await call("editMessageText", chat_id=uid, message_id=mid, text="v2", reply_markup=markup)
    assert status == 200
    assert body["result"]["text"] == "v2"
    assert isinstance(body["result"]["edit_date"], int)
    status, body = await call("editMessageText", chat_id=uid, message_id=1, text="not mine")  # the user's "hi"
    assert (status, body["description"]) == (400, "Bad Request: message can't be edited")
    status, body = await call("editMessageCaption", chat_id=uid, message_id=mid, caption="c")
    assert (status, body["description"]) == (400, "Bad Request: there is no caption in the message to edit")
    assert (await call("deleteMessage", chat_id=uid, message_id=mid))[0] == 200
    status, body = await call("deleteMessage", chat_id=uid, message_id=mid)
    assert (status, body["description"]) == (400, "Bad Request: message to delete not found")
    [entry] = [m for m in await client.messages(uid) if m["message_id"] == mid]
    assert (entry["deleted"], entry["edit_count"], entry["text"]) == (True, 1, "v2")


async def test_answer_callback_query_once_only(call: Call, client: SandboxClient) -> None:
    uid = await _started_user(client)
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    _, sent = await call("sendMessage", chat_id=uid, text="pick", reply_markup=markup)
    qid = await client.press(uid, uid, sent["result"]["message_id"], button_text="A")
    too_old = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    assert (await call("answerCallbackQuery", callback_query_id="42"))[1]["description"] == too_old
    assert (await call("answerCallbackQuery", callback_query_id=qid, text="x" * 201))[1]["description"] == \
        "Bad Request: MESSAGE_TOO_LONG"
    assert (await call("answerCallbackQuery", callback_query_id=qid, text="ok", show_alert=True))[0] == 200
    assert (await call("answerCallbackQuery", callback_query_id=qid))[1]["description"] == too_old
    assert await client.callback_answer(qid, timeout=0) == {"answered": True, "text": "ok", "show_alert": True,
                                                           "url": None}


async def test_press_refuses_data_not_on_the_keyboard_unless_forged(call: Call, client: SandboxClient) -> None:
    uid = await _started_user(client)
    _, sent = await call("sendMessage", chat_id=uid, text="pick",
                         reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]})
    mid = sent["result"]["message_id"]
    try:
        await client.press(uid, uid, mid, data="evil")
    except Exception as exc:
        assert "evil" in str(exc)
    else:
        raise AssertionError("press accepted data that is not on the keyboard")
    assert await client.press(uid, uid, mid, data="evil", forge=True)


async def test_location_and_media_group_validation(call: Call, client: SandboxClient) -> None:
    uid = await _started_user(client)
    assert (await call("sendLocation", chat_id=uid, latitude=91, longitude=10))[0] == 400
    assert (await call("sendLocation", chat_id=uid, latitude=10, longitude=-181))[0] == 400
    status, body = await call("sendVenue", chat_id=uid, latitude=32.89, longitude=115.81, title="市政府",
                              address="颍州区")
    assert status == 200
    assert body["result"]["venue"]["location"] == {"latitude": 32.89, "longitude": 115.81}
    status, body = await call("sendMediaGroup", chat_id=uid, media=[{"type": "photo", "media": "x"}])
    assert (status, body["description"]) == (400, "Bad Request: wrong number of media items")
    status, body = await call("sendPhoto", chat_id=uid, photo="no-such-file-id")
    assert (status, body["description"]) == (400, "Bad Request: wrong file identifier/HTTP URL specified")
    status, body = await call("getFile", file_id="no-such-file-id")
    assert (status, body["description"]) == (400, "Bad Request: wrong file identifier/HTTP URL specified")


async def test_json_body_and_caption_limit(call: Call, client: SandboxClient) -> None:
    uid = await _started_user(client)
    status, body = await call("sendMessage", _json=True, chat_id=uid, text="json body",
                              reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]})
    assert status == 200
    assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"
    assert body["result"]["chat"] == {"id": uid, "type": "private", "first_name": "Han"}
    assert body["result"]["from"]["is_bot"] is True
    assert body["result"]["message_id"] == 2  # per-chat counter: the user's "hi" was 1


async def test_commands_are_stored_per_scope_and_language(call: Call, client: SandboxClient) -> None:
    commands = [{"command": "new", "description": "新投诉"}]
    assert (await call("setMyCommands", commands=commands, language_code="zh"))[0] == 200
    scope = {"type": "chat", "chat_id": -4001}
    assert (await call("setMyCommands", commands=[{"command": "stats", "description": "统计"}], scope=scope))[0] == 200
    assert (await call("getMyCommands", language_code="zh"))[1]["result"] == commands
    assert (await call("getMyCommands"))[1]["result"] == []
    assert (await call("setMyCommands", commands=[{"command": "Bad-Name", "description": "x"}]))[1][
        "description"] == "Bad Request: BOT_COMMAND_INVALID"
    stored = await client.commands()
    assert {(c["scope"]["type"], c["language_code"]) for c in stored} == {("default", "zh"), ("chat", "")}
    assert (await call("deleteMyCommands", language_code="zh"))[0] == 200
    assert (await call("getMyCommands", language_code="zh"))[1]["result"] == []
