"""Describe-first intake: a resident who never types /new starts a complaint with a description, a photo or a
location; the intake asks only for what is missing, and the category step offers the likeliest categories first."""

from __future__ import annotations

from sandbox.client import Person
from sandbox.local import LocalSandbox
from storage import tickets
from tests.e2e.talk import PAGES, en, first_line, number_in, zh
from tests.e2e.test_intake_happy import STATION
from tests.images import jpeg

LAMP = "小区门口的路灯坏了三天了，晚上黑乎乎的，老人出门都不敢走。"
DOG = "楼下邻居养的大狗从来不拴绳，昨天追着我家孩子跑，孩子吓哭了。"


def buttons(message: dict) -> list[str]:
    return [b["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


def sent_by(person: Person, transcript: list[dict]) -> list[str]:
    return [m.get("text") or "" for m in transcript if not m.get("outgoing") and m["from"]["id"] == person.id]


async def confirm(person: Person) -> str:
    await person.expect(first_line("zh", "intake.summary"))
    await person.tap(zh("intake.btn_confirm"))
    return number_in((await person.expect("工单编号"))["text"])


async def test_a_described_complaint_that_never_typed_new_gets_a_number(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷", language_code="zh")
    await li.say(LAMP)
    await li.expect(zh("suggest.started_description"))
    prompt = await li.expect(first_line("zh", "suggest.ask_category"))
    offered = buttons(prompt)
    assert offered[0] == "市政设施" and len(offered) == 4  # three suggestions, the likeliest first, then "other"
    assert offered[-1] == zh("suggest.btn_other")
    await li.tap("市政设施")
    await li.expect(zh("intake.category_chosen", category="市政设施"))
    await li.expect(first_line("zh", "intake.ask_location"))
    await li.share_location(*STATION)
    await li.expect(first_line("zh", "intake.ask_photos", max=6))
    await li.say(zh("intake.btn_no_photos"))
    number = await confirm(li)  # the description was given: never asked for again

    ticket = await local.db.read(lambda c: tickets.by_number(c, number))
    assert ticket.category == "municipal" and ticket.description == LAMP and ticket.reporter_id == li.id
    assert ticket.location_source == "gps" and ticket.state == "dispatched"
    transcript = await li.transcript()
    assert not any(text.startswith("/") for text in sent_by(li, transcript))
    asked = "".join(m.get("text") or "" for m in transcript if m.get("outgoing"))
    assert first_line("zh", "intake.ask_description", min=10, max=1500) not in asked
    assert await local.runner.services.intake.draft(li.id) is None


async def test_a_photo_first_complaint_asks_for_the_description_then_suggests(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await li.send_photo(jpeg())
    await li.expect(zh("suggest.started_photo"))
    await li.expect(zh("intake.photo_received", count=1, max=6))
    await li.send_photo(jpeg(color=(5, 6, 7)))  # the draft now exists: a second photo is just another photo
    await li.expect(zh("intake.photo_received", count=2, max=6))
    await li.say(zh("intake.btn_done"))
    await li.expect(first_line("zh", "intake.ask_description", min=10, max=1500))
    await li.say(DOG)
    prompt = await li.expect(first_line("zh", "suggest.ask_category"))
    assert buttons(prompt)[0] == "宠物犬只"
    await li.tap("宠物犬只")
    await li.expect(first_line("zh", "intake.ask_location"))
    await li.say(zh("intake.btn_skip"))
    number = await confirm(li)  # photos were the first step: not asked again

    ticket = await local.db.read(lambda c: tickets.by_number(c, number))
    assert ticket.category == "pets" and ticket.description == DOG and ticket.location_source == "none"
    assert await local.db.read(lambda c: tickets.photo_count(c, ticket.id)) == 2


async def test_a_photo_with_a_caption_gives_the_description_too(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await li.send_photo(jpeg(), caption=DOG)
    await li.expect(zh("suggest.started_photo"))
    await li.expect(zh("intake.photo_received", count=1, max=6))
    await li.say(zh("intake.btn_done"))
    prompt = await li.expect(first_line("zh", "suggest.ask_category"))  # the caption was the description
    assert buttons(prompt)[0] == "宠物犬只"
    draft = await local.runner.services.intake.draft(li.id)
    assert draft is not None and draft.description == DOG and draft.photo_count == 1


async def test_a_location_first_complaint_asks_for_the_description_then_the_rest(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await li.share_location(*STATION)
    ack = await li.expect(zh("suggest.started_location"))
    assert first_line("zh", "intake.ask_description", min=10, max=1500) in ack["text"]  # one message
    await li.say(LAMP)
    await li.expect(first_line("zh", "suggest.ask_category"))
    await li.tap(zh("suggest.btn_other"))  # none fits: the full list, and a way back
    page = await li.expect(first_line("zh", "intake.ask_category", page=1, pages=PAGES))
    assert zh("suggest.btn_back") in buttons(page)
    await li.tap(zh("suggest.btn_back"))
    await li.expect(first_line("zh", "suggest.ask_category"))
    await li.tap("市政设施")
    await li.expect(first_line("zh", "intake.ask_photos", max=6))  # the location is known: photos come next
    await li.say(zh("intake.btn_no_photos"))
    number = await confirm(li)

    ticket = await local.db.read(lambda c: tickets.by_number(c, number))
    assert ticket.category == "municipal" and (ticket.lat, ticket.lon) == STATION and ticket.description == LAMP


async def test_an_english_description_gets_english_suggestions(local: LocalSandbox, sb) -> None:
    tom = await sb.person("Tom", language_code="en")
    await tom.say("The street light outside my building has been broken for a week.")
    await tom.expect(en("suggest.started_description"))
    prompt = await tom.expect(first_line("en", "suggest.ask_category"))
    assert buttons(prompt)[0] == "Municipal facilities" and buttons(prompt)[-1] == en("suggest.btn_other")


async def test_greetings_numbers_replies_and_commands_start_nothing(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await li.say("你好")
    await li.expect(first_line("zh", "suggest.describe_more", min=10))
    await li.say("350 823 614")  # a ticket number, not a complaint
    await li.expect(zh("common.not_understood"))
    reply_to = (await li.transcript())[-1]["message_id"]
    await sb.send(li.id, text="这是对上一条消息的回复，不是新的投诉内容", reply_to_message_id=reply_to)
    await li.expect(zh("common.not_understood"))
    await li.say("/status 350 823 614")
    await li.expect("350 823 614")
    await li.send_sticker()
    await li.expect(zh("common.not_understood"))
    assert await local.runner.services.intake.draft(li.id) is None


async def test_a_resident_with_a_draft_in_progress_keeps_the_step(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await li.say("/new")
    await li.expect(first_line("zh", "intake.ask_category", page=1, pages=PAGES))
    await li.say(LAMP)  # at the category step a text names a category, it does not start another draft
    await li.expect(zh("intake.category_expected"))
    draft = await local.runner.services.intake.draft(li.id)
    assert draft is not None and draft.step == "category" and draft.description is None
