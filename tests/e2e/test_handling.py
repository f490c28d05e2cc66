"""Dispatch and handling end to end: the street light, the case nobody owns, the kindergarten, buttons pressed by
the wrong people, and groups that move."""

from __future__ import annotations

import pytest

from bot.callbacks import TicketButton
from bot.domain.numbers import format_number
from sandbox.client import Person
from sandbox.local import LocalSandbox
from storage import chats, tickets
from tests.e2e.conftest import ADMIN_ID
from tests.e2e.talk import first_line, number_in, rate, to_summary, zh
from tests.images import jpeg

pytestmark = pytest.mark.backends  # run on SQLite and on PostgreSQL (tests/e2e/conftest.py)
HEFEI_AVENUE = (32.8220, 115.8620)  # inside 阜合园区, which was carved out of 颍州区
YINGZHOU = (32.8830, 115.8120)  # 颍州区, outside the park


async def liaison(local: LocalSandbox, group: str) -> Person:
    """The liaison who administers a group the sandbox created (and is therefore allowed to act for it)."""
    assert local.client is not None
    return Person(local.client, local.liaisons[group], None, await local.client.seq())


def chat(local: LocalSandbox, group: str) -> int:
    return int(local.groups[group]["id"])


async def file(person: Person, category: str, point: tuple[float, float], description: str,
               page2: bool = False) -> str:
    await to_summary(person, category, point, description, page2)
    await person.tap(zh("intake.btn_confirm"))
    return number_in((await person.expect("工单编号"))["text"])


async def ticket_of(local: LocalSandbox, number: str):
    return await local.db.read(lambda c: tickets.by_number(c, number))


async def test_the_street_light_goes_straight_to_the_park_and_the_card_says_why(local: LocalSandbox, sb) -> None:
    resident = await sb.person("王芳")
    park = await liaison(local, "fuhe_park_liaison")
    number = await file(resident, "市政设施", HEFEI_AVENUE, "合肥大道上的路灯白天一直亮着，晚上反而不亮。", page2=True)

    card = await park.expect(f"工单 {format_number(number)}", chat=chat(local, "fuhe_park_liaison"))
    assert "阜合园区" in card["text"] and "位置在阜合园区" in card["text"], card["text"]
    assert [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row] == ["签收", "退回", "建议并单"]
    # the map pin went before the card
    pins = [m for m in await sb.messages(chat(local, "fuhe_park_liaison")) if "location" in m]
    assert pins and abs(pins[0]["location"]["latitude"] - HEFEI_AVENUE[0]) < 1e-4
    # and nothing reached 颍州区
    assert not [m for m in await sb.messages(chat(local, "yingzhou_liaison")) if m.get("outgoing")]
    t = await ticket_of(local, number)
    assert (t.state, t.unit, t.zone, t.district) == ("dispatched", "fuhe_park", "fuhe_park", "yingzhou")
    confirmation = next(m for m in await resident.transcript() if "工单编号" in (m.get("text") or ""))
    assert zh("notify.dispatched", number=format_number(number), unit="阜合园区") in confirmation["text"]
    await resident.say(f"/status {number}")
    status = await resident.expect(f"工单 {format_number(number)}")
    assert "阜合园区" in status["text"] and "签收期限" in status["text"]  # who has it and by when


async def test_a_case_nobody_owns_is_settled_by_a_lead_unit(local: LocalSandbox, sb) -> None:
    resident = await sb.person("李雷")
    a = await liaison(local, "yingzhou_liaison")
    b = await liaison(local, "city_management_liaison")
    lead = await liaison(local, "fuhe_park_liaison")
    coordinator = await liaison(local, "coordination")
    supervisor = await liaison(local, "supervision")
    a_chat, b_chat, c_chat = chat(local, "yingzhou_liaison"), chat(local, "city_management_liaison"), chat(
        local, "fuhe_park_liaison")
    co_chat, sup_chat = chat(local, "coordination"), chat(local, "supervision")
    number = await file(resident, "市政设施", YINGZHOU, "十字路口的路面塌了一个大坑，车辆经过很危险。", page2=True)
    shown = format_number(number)

    # unit A returns it with a reason button
    await a.expect(f"工单 {shown}", chat=a_chat)
    await a.tap("退回", chat=a_chat)
    await a.expect(zh("ask.return_reason"), chat=a_chat)
    answer = await a.tap(zh("ask.reason_not_ours"), chat=a_chat)
    assert answer["text"] == zh("done.returned")
    card = await coordinator.expect(f"待协调：工单 {shown}", chat=co_chat)
    assert zh("card.bounces", count=1) in card["text"] and "不属于本单位职责" in card["text"]

    # the coordinators send it to B, who returns it with a typed reason: two bounces, escalated
    await coordinator.tap("重新派单", chat=co_chat)
    await coordinator.expect(first_line("zh", "ask.redispatch_pick", number=shown), chat=co_chat)
    await coordinator.tap("市城市管理局", chat=co_chat)
    await b.expect(f"工单 {shown}", chat=b_chat)
    await b.tap("退回", chat=b_chat)
    await b.expect(zh("ask.return_reason"), chat=b_chat)
    await b.say("这条路由园区管理，不归城管局。", chat=b_chat)
    await b.expect(zh("done.returned"), chat=b_chat)
    card = await coordinator.expect(zh("card.bounces", count=2), chat=co_chat)
    assert f"待协调：工单 {shown}" in card["text"] and zh("card.escalated") in card["text"]
    assert "这条路由园区管理" in card["text"]

    # a coordinator makes C lead with D helping
    await coordinator.tap("指定主办单位", chat=co_chat)
    await coordinator.tap("阜合园区", chat=co_chat)
    await coordinator.expect("主办：阜合园区", chat=co_chat)
    await coordinator.tap("市城市管理局", chat=co_chat)
    await coordinator.expect("协办单位（可多选）", chat=co_chat)
    answer = await coordinator.tap("确定", chat=co_chat)
    assert answer["text"] == zh("done.lead_assigned", unit="阜合园区")
    card = await lead.expect(f"工单 {shown}", chat=c_chat)
    assert zh("card.lead", unit="阜合园区") in card["text"] and "市城市管理局" in card["text"], card
    assert [x["text"] for row in card["reply_markup"]["inline_keyboard"] for x in row] == ["签收", "建议并单"]
    helper_card = await b.expect(f"协办：工单 {shown}", chat=b_chat)
    assert not helper_card.get("reply_markup", {}).get("inline_keyboard")

    # C cannot return it, even with a forged button
    t = await ticket_of(local, number)
    forged = TicketButton("ret", t.id, t.version).encode()
    answer = await sb.callback_answer(await sb.press(lead.id, c_chat, card["message_id"], data=forged, forge=True))
    assert answer["text"] == zh("deny.lead_cannot_return") and answer["show_alert"]

    # C signs for it and resolves it with a photo
    await lead.tap("签收", chat=c_chat)
    await resident.expect(zh("notify.accepted", number=shown, unit="阜合园区"))
    await lead.tap("办结", chat=c_chat)
    await lead.expect(zh("ask.resolve_answer"), chat=c_chat)
    await lead.send_photo(jpeg(), caption="已回填路面并设置警示标志。", chat=c_chat)
    await lead.expect(zh("done.resolved"), chat=c_chat)

    # the resident is dissatisfied: it reopens at C, flagged, and the supervisors hear of it
    resolved = await resident.expect("已办结您的工单")
    assert "已回填路面" in resolved["text"]
    photos = [m for m in await resident.transcript() if "photo" in m and m.get("outgoing")]
    assert photos, "the unit's photo reached the resident"
    await rate(resident, "solved", "dissatisfied")
    await resident.expect(zh("notify.reopened", number=shown, unit="阜合园区"))
    # the old card is redrawn without buttons (the redraw with buttons queued just before is superseded), then
    # a fresh card is posted
    retired_card = await lead.expect(zh("card.recomplaint", count=1), chat=c_chat)
    assert not retired_card.get("reply_markup", {}).get("inline_keyboard")
    reopened_card = await lead.expect(zh("card.recomplaint", count=1), chat=c_chat)
    assert reopened_card["message_id"] != retired_card["message_id"]
    assert [x["text"] for row in reopened_card["reply_markup"]["inline_keyboard"] for x in row] == [
        "签收", "办结", "询问群众", "建议并单"]
    await supervisor.expect(f"工单 {shown}", chat=sup_chat)

    # C resolves again; the resident is satisfied; it is closed
    await lead.tap("办结", chat=c_chat)
    await lead.expect(zh("ask.resolve_answer"), chat=c_chat)
    await lead.say("路面已重新铺设沥青，验收合格。", chat=c_chat)
    await lead.expect(zh("done.resolved"), chat=c_chat)
    await resident.expect("路面已重新铺设沥青")
    await rate(resident)
    await resident.expect(zh("notify.closed", number=shown))

    t = await ticket_of(local, number)
    assert (t.state, t.bounces, t.lead, t.reopen_count, t.rating) == ("closed", 2, True, 1, "satisfied")
    events = await local.db.read(lambda c: tickets.events(c, t.id))
    assert [e.action for e in events] == [
        "registered", "dispatched", "returned", "redispatched", "returned", "escalated", "assigned_lead",
        "accepted", "resolved", "reopened", "resolved", "rated_satisfied"]
    assert [e.unit for e in events if e.action == "returned"] == ["yingzhou", "city_management"]

    # the operators' view shows every step with who, from, to and why
    await coordinator.say(f"/ticket {number}", chat=co_chat)
    case = await coordinator.expect("全过程", chat=co_chat)
    for words in ("退回/转办：2 次", "不属于本单位职责", "这条路由园区管理", "协调组指定主办：阜合园区",
                  "已派单 → 办理中", "群众评价：满意"):
        assert words in case["text"], words


async def test_a_kindergarten_complaint_alerts_the_supervisors_at_once(local: LocalSandbox, sb) -> None:
    social = await sb.person("人大代表张")
    # register the social supervisor with a one-time code made by an admin
    code = await local.runner.services.admin.make_code(ADMIN_ID, "social_supervisor", None, None)
    await social.say(f"/supervisor {code}")
    await social.expect(zh("admin.supervisor_registered"))

    resident = await sb.person("家长")
    supervisor = await liaison(local, "supervision")
    number = await file(resident, "教育", YINGZHOU, "阳光幼儿园突然通知下周不开学，两百多个孩子没地方上学。")
    alert = await social.expect("敏感案件")
    assert format_number(number) in alert["text"] and "幼儿园" in alert["text"] and "签收期限" in alert["text"]
    await supervisor.expect("敏感案件", chat=chat(local, "supervision"))
    t = await ticket_of(local, number)
    assert t.sensitive == "幼儿园" and t.unit == "education"


async def test_strangers_double_presses_stale_and_forged_cards_change_nothing(local: LocalSandbox, sb) -> None:
    resident = await sb.person("李雷")
    a = await liaison(local, "yingzhou_liaison")
    a_chat = chat(local, "yingzhou_liaison")
    number = await file(resident, "房产物业", YINGZHOU, "小区电梯坏了一个星期，物业一直不修。")
    card = await a.expect(f"工单 {format_number(number)}", chat=a_chat)
    before = await ticket_of(local, number)

    # a stranger in the group (not admin, not a registered liaison)
    stranger = await sb.person("路人")
    await sb.set_member(a_chat, stranger.id)
    answer = await sb.callback_answer(await sb.press(stranger.id, a_chat, card["message_id"], button_text="签收"))
    assert answer["text"] == zh("deny.not_allowed") and answer["show_alert"]
    assert (await ticket_of(local, number)).version == before.version

    # the liaison signs for it; a second press of the same (now stale) button changes nothing
    first = await sb.callback_answer(await sb.press(a.id, a_chat, card["message_id"], button_text="签收",
                                                    forge=False))
    assert first["text"] == zh("done.accepted")
    after = await ticket_of(local, number)
    stale = TicketButton("acc", before.id, before.version).encode()
    second = await sb.callback_answer(await sb.press(a.id, a_chat, card["message_id"], data=stale, forge=True))
    assert second["text"] == zh("deny.stale")
    assert (await ticket_of(local, number)).version == after.version

    # a forged button for another ticket, or with a made-up version, or from another unit's chat
    other = await file(resident, "城市管理", YINGZHOU, "路边占道经营，行人只能走机动车道。")
    other_t = await ticket_of(local, other)
    for data in (TicketButton("acc", other_t.id, other_t.version + 5).encode(),
                 TicketButton("res", after.id, after.version + 1).encode()):
        answer = await sb.callback_answer(await sb.press(a.id, a_chat, card["message_id"], data=data, forge=True))
        assert answer["text"] == zh("deny.stale") and answer["show_alert"], data
    b_chat = chat(local, "hrss_liaison")
    b = await liaison(local, "hrss_liaison")
    wages = await file(resident, "劳动社保", YINGZHOU, "工地拖欠农民工工资三个月了。")
    msg = await b.expect(f"工单 {format_number(wages)}", chat=b_chat)
    forged = TicketButton("acc", other_t.id, other_t.version).encode()
    answer = await sb.callback_answer(await sb.press(b.id, b_chat, msg["message_id"], data=forged, forge=True))
    assert answer["text"] == zh("deny.not_allowed")
    assert (await ticket_of(local, other)).state == "dispatched"
    assert (await ticket_of(local, number)).state == "accepted"


async def test_binding_a_group_with_a_one_time_code(local: LocalSandbox, sb) -> None:
    assert local.client is not None
    admin_user = Person(sb, await sb.create_user("管理员", id=ADMIN_ID), None, await sb.seq())
    await admin_user.say("/code unit linquan")
    reply = await admin_user.expect("/bind ")
    code = reply["text"].split("/bind ")[1].split()[0]

    new_group = await sb.create_group("临泉县新工作群", member_ids=[admin_user.id], admin_ids=[admin_user.id])
    await admin_user.say(f"/bind {code}", chat=new_group["id"])
    await admin_user.expect(zh("admin.bound", target="临泉县"), chat=new_group["id"])
    assert await local.db.read(lambda c: chats.chat_for(c, "unit", "linquan")) == new_group["id"]
    # the code works once
    other = await sb.create_group("另一个群", member_ids=[admin_user.id])
    await admin_user.say(f"/bind {code}", chat=other["id"])
    await admin_user.expect(zh("admin.code_invalid"), chat=other["id"])
    # a stranger cannot make codes
    stranger = await sb.person("路人")
    await stranger.say("/code unit linquan")
    await stranger.expect(zh("admin.not_admin"))
    # listing and unbinding
    await admin_user.say("/bindings")
    listing = await admin_user.expect("已绑定的工作群")
    assert "临泉县新工作群" in listing["text"]
    await admin_user.say(f"/unbind {new_group['id']}")
    await admin_user.expect(zh("admin.unbound", chat_id=new_group["id"]))


async def test_an_expired_code_is_refused(local: LocalSandbox, sb, clock) -> None:
    code = await local.runner.services.admin.make_code(ADMIN_ID, "liaison", None, "taihe")
    clock.advance((local.config.handling.code_ttl_hours + 1) * 3600)
    person = await sb.person("新联络员")
    await person.say(f"/liaison {code}")
    await person.expect(zh("admin.code_invalid"))


async def test_a_registered_liaison_may_act_without_being_group_admin(local: LocalSandbox, sb) -> None:
    code = await local.runner.services.admin.make_code(ADMIN_ID, "liaison", None, "yingzhou")
    helper = await sb.person("新联络员")
    await helper.say(f"/liaison {code}")
    await helper.expect(zh("admin.liaison_registered", target="颍州区"))
    a_chat = chat(local, "yingzhou_liaison")
    await sb.set_member(a_chat, helper.id)  # an ordinary member of the group, not its administrator
    resident = await sb.person("李雷")
    number = await file(resident, "房产物业", YINGZHOU, "小区路灯坏了很久，晚上很黑。")
    card = await helper.expect(f"工单 {format_number(number)}", chat=a_chat)
    answer = await sb.callback_answer(await sb.press(helper.id, a_chat, card["message_id"], button_text="签收"))
    assert answer["text"] == zh("done.accepted")


async def test_a_card_for_a_migrated_group_reaches_the_supergroup_and_the_binding_follows(local: LocalSandbox,
                                                                                          sb) -> None:
    old_id = chat(local, "yingzhou_liaison")
    migrated = await sb.migrate(old_id)
    new_id = migrated.get("new_chat_id") or migrated.get("id") or migrated["migrate_to_chat_id"]
    resident = await sb.person("李雷")
    number = await file(resident, "房产物业", YINGZHOU, "小区门口的井盖丢了，很危险。")
    a = await liaison(local, "yingzhou_liaison")
    card = await a.expect(f"工单 {format_number(number)}", chat=new_id, timeout=15)
    assert card["chat"]["id"] == new_id
    assert await local.db.read(lambda c: chats.chat_for(c, "unit", "yingzhou")) == new_id
    answer = await sb.callback_answer(await sb.press(a.id, new_id, card["message_id"], button_text="签收"))
    assert answer["text"] == zh("done.accepted")


async def test_more_time_is_asked_for_and_approved_and_the_deadline_moves(local: LocalSandbox, sb) -> None:
    resident = await sb.person("李雷")
    a, coordinator = await liaison(local, "yingzhou_liaison"), await liaison(local, "coordination")
    a_chat, co_chat = chat(local, "yingzhou_liaison"), chat(local, "coordination")
    number = await file(resident, "房产物业", YINGZHOU, "小区外墙瓷砖脱落，砸坏了停在下面的车。")
    await a.expect(f"工单 {format_number(number)}", chat=a_chat)
    await a.tap("签收", chat=a_chat)
    accepted = await a.expect(zh("card.due", due=""), chat=a_chat)  # the card now shows the handling deadline
    assert [x["text"] for row in accepted["reply_markup"]["inline_keyboard"] for x in row] == [
        "办结", "申请延期", "退回", "询问群众", "建议并单"]
    due_before = (await ticket_of(local, number)).due_at
    await a.tap("申请延期", chat=a_chat)
    await a.tap("5", chat=a_chat)
    await a.expect(zh("ask.ext_reason", days=5), chat=a_chat)
    await a.say("需要联系产权单位和保险公司现场勘查。", chat=a_chat)
    await a.expect(zh("done.extension_requested"), chat=a_chat)
    card = await coordinator.expect("延期申请", chat=co_chat)
    assert "5 个工作日" in card["text"] and "产权单位" in card["text"]
    answer = await coordinator.tap("批准延期", chat=co_chat)
    assert answer["text"] == zh("done.extension_approved")
    t = await ticket_of(local, number)
    assert t.due_at > due_before
    await resident.expect(zh("notify.extended", number=format_number(number), due="").rstrip("。"))
    events = await local.db.read(lambda c: tickets.events(c, t.id))
    assert [e.action for e in events][-2:] == ["extension_requested", "extension_approved"]
    # the approved card cannot be pressed again
    old = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    again = await sb.callback_answer(await sb.press(coordinator.id, co_chat, card["message_id"], data=old,
                                                    forge=True))
    assert again["text"] == zh("deny.stale")


async def test_a_coordinator_rejects_with_a_reason_the_resident_sees(local: LocalSandbox, sb) -> None:
    resident = await sb.person("李雷")
    coordinator = await liaison(local, "coordination")
    co_chat = chat(local, "coordination")
    await resident.say("/new")
    await resident.tap("城市管理")
    await resident.expect(first_line("zh", "intake.ask_location"))
    await resident.say(zh("intake.btn_skip"))  # no place: a local category cannot be routed
    await resident.say(zh("intake.btn_no_photos"))
    await resident.say("隔壁邻居家的狗每天晚上叫个不停。")
    await resident.tap(zh("intake.btn_confirm"))
    number = number_in((await resident.expect("工单编号"))["text"])
    card = await coordinator.expect(f"待协调：工单 {format_number(number)}", chat=co_chat)
    assert "未提供位置" in card["text"]
    await coordinator.tap("调整期限类别", chat=co_chat)
    await coordinator.tap(zh("cls.complex"), chat=co_chat)
    assert (await ticket_of(local, number)).deadline_class == "complex"
    # the card is redrawn with the new version before its buttons act again
    await coordinator.expect(zh("card.deadline_class", cls=zh("cls.complex")), chat=co_chat)
    await coordinator.tap("不予受理", chat=co_chat)
    await coordinator.expect(zh("ask.reject_reason"), chat=co_chat)
    reason = "属于邻里纠纷，请联系社区调解委员会。"
    await coordinator.say(reason, chat=co_chat)
    await coordinator.expect(zh("done.rejected"), chat=co_chat)
    await resident.expect(zh("notify.rejected", number=format_number(number), reason=reason))
    assert (await ticket_of(local, number)).state == "rejected"
    await resident.say(f"/status {number}")
    status = await resident.expect(f"工单 {format_number(number)}")
    assert zh("state.rejected") in status["text"] and reason in status["text"]


async def test_open_cases_of_a_unit_for_the_operators(local: LocalSandbox, sb) -> None:
    resident = await sb.person("李雷")
    number = await file(resident, "房产物业", YINGZHOU, "小区电梯坏了一个星期，物业一直不修。")
    coordinator = await liaison(local, "coordination")
    co_chat = chat(local, "coordination")
    await coordinator.say("/open yingzhou", chat=co_chat)
    listing = await coordinator.expect("颍州区 的在办工单", chat=co_chat)
    assert format_number(number) in listing["text"]
    await coordinator.say("/open nowhere", chat=co_chat)
    await coordinator.expect("用法：/open", chat=co_chat)
    a = await liaison(local, "yingzhou_liaison")
    await a.say("/open yingzhou", chat=chat(local, "yingzhou_liaison"))
    await a.expect(zh("ops.only_here"), chat=chat(local, "yingzhou_liaison"))
