"""Everything on one machine: the Bot API emulator, the bot pointed at it, and the city's group chats.

Used by `complaint-bot sandbox`, the end-to-end tests and the benchmarks. The bot is built exactly as for
Telegram; only `telegram.base_url` / `base_file_url` point here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bot.app import BotRunner, build_application
from bot.clock import Clock, SystemClock
from bot.config import Config, WebhookConfig
from sandbox.client import SandboxClient
from sandbox.server import Sandbox
from sandbox.webcity import city_map
from storage import chats
from storage.db import Database
from storage.leadership import Leadership

#: The webhook's secret token in the sandbox (``webhook=True``); not a secret either.
SANDBOX_WEBHOOK_SECRET = "sandbox_webhook_secret_not_a_secret"
#: Not a secret: the emulator accepts any well-formed token. Shaped so it is never mistaken for a real one.
SANDBOX_TOKEN = "4242:sandbox_local_token_not_a_secret"
BOT_USERNAME = "complaint_sandbox_bot"
#: The people of the web chat (``people=True``): residents (first name, language), then the other roles.
RESIDENTS = (("王芳", "zh"), ("张伟", "zh"), ("Alice", "en"))
SOCIAL_SUPERVISOR = ("社会监督员-陈静", "zh")
ADMIN = ("管理员-刘洋", "zh")


class LocalSandbox:
    def __init__(self, config: Config, *, port: int = 0, clock: Clock | None = None,
                 token: str = SANDBOX_TOKEN, poll_timeout_s: float = 1.0, bind_groups: bool = True,
                 people: bool = False, webhook: bool | WebhookConfig = False,
                 leadership: Leadership | None = None) -> None:
        #: Who runs the once-only jobs (storage/leadership.py); None: this process (SQLite's SoleProcess).
        self.leadership = leadership
        #: The emulator delivers updates by webhook to our server instead of polling: True, on a free local port;
        #: a WebhookConfig, as it says (a proxy in front: its `url` and the `listen_port` the proxy forwards to).
        self.webhook = webhook
        self.bind_groups = bind_groups
        self.people = people
        self.base_config = config
        self.port = port
        self.clock = clock or SystemClock()
        self.token = token
        self.poll_timeout_s = poll_timeout_s
        self.sandbox = Sandbox()
        self.client: SandboxClient | None = None
        self.db: Database | None = None
        self.runner: BotRunner | None = None
        self.config = config
        self.groups: dict[str, dict[str, Any]] = {}
        self.liaisons: dict[str, dict[str, Any]] = {}
        self.residents: list[dict[str, Any]] = []
        self.social_supervisor: dict[str, Any] | None = None
        self.admin: dict[str, Any] | None = None

    async def __aenter__(self) -> LocalSandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        await self.sandbox.start(port=self.port)
        self.client = SandboxClient(self.sandbox.url)
        await self.client.__aenter__()
        await self.client.create_bot(self.token, username=BOT_USERNAME, first_name="12345 诉求受理")
        admins = self.base_config.admins
        if self.people:
            self.admin = await self.client.create_user(ADMIN[0], language_code=ADMIN[1])
            admins = (*admins, self.admin["id"])
        self.config = dataclasses.replace(self.base_config, admins=admins, telegram=dataclasses.replace(
            self.base_config.telegram, base_url=self.sandbox.bot_base_url,
            base_file_url=self.sandbox.file_base_url, poll_timeout_s=self.poll_timeout_s))
        await self._make_groups()
        if self.people:
            await self._make_people()
        self._publish()
        await self.start_bot()

    async def _make_groups(self) -> None:
        """The city's group chats, each with a liaison who administers it, bound to its unit or role (what
        /code and /bind do by hand in production)."""
        assert self.client is not None
        db = await Database.open(self.config.storage.database)
        try:
            for group in self.config.city.groups:
                name = (f"联络员-{self.config.city.unit(group.unit).name_zh}" if group.unit
                        else f"{group.title}-值班员")
                liaison = await self.client.create_user(name, language_code="zh")
                chat = await self.client.create_group(group.title, member_ids=[liaison["id"]],
                                                      admin_ids=[liaison["id"]])
                self.groups[group.key] = chat
                self.liaisons[group.key] = liaison
                if self.bind_groups:
                    now = self.clock.now()
                    await db.write(lambda c, chat=chat, group=group, now=now: chats.bind(
                        c, chat["id"], group.role, group.unit, group.title, 0, now))
        finally:
            await db.close()

    async def _make_people(self) -> None:
        """Residents and a social supervisor (registered as /supervisor CODE would) for the web chat."""
        assert self.client is not None
        for name, lang in RESIDENTS:
            self.residents.append(await self.client.create_user(name, language_code=lang))
        self.social_supervisor = await self.client.create_user(SOCIAL_SUPERVISOR[0],
                                                               language_code=SOCIAL_SUPERVISOR[1])
        bot = self.sandbox.state.bot(self.token)
        bot.started.update(u["id"] for u in (self.social_supervisor, self.admin) if u)  # as if they sent /start
        db = await Database.open(self.config.storage.database)
        try:
            supervisor_id, now = self.social_supervisor["id"], self.clock.now()
            await db.write(lambda c: chats.add_social_supervisor(c, supervisor_id, now))
        finally:
            await db.close()

    def _publish(self) -> None:
        """Tell the web chat who acts where, and the city's map."""
        roles: list[dict[str, Any]] = [{"chat_id": u["id"], "user_id": u["id"], "kind": "resident",
                                        "title": u["first_name"]} for u in self.residents]
        for user, kind in ((self.social_supervisor, "social_supervisor"), (self.admin, "admin")):
            if user is not None:
                roles.append({"chat_id": user["id"], "user_id": user["id"], "kind": kind, "title": user["first_name"]})
        for group in self.config.city.groups:
            roles.append({"chat_id": self.groups[group.key]["id"], "user_id": self.liaisons[group.key]["id"],
                          "kind": group.role, "title": group.title, "unit": group.unit})
        self.sandbox.web.publish(roles, city_map(self.config.city))

    async def start_bot(self) -> None:
        self.db = await Database.open(self.config.storage.database)
        app = build_application(self.config, self.db, self.clock, self.token, leadership=self.leadership)
        webhook = self.webhook if isinstance(self.webhook, WebhookConfig) else None
        if self.webhook is True:
            webhook = dataclasses.replace(self.config.webhook, url="", listen_host="127.0.0.1", listen_port=0)
        self.runner = BotRunner(app, self.poll_timeout_s, webhook=webhook, webhook_secret=SANDBOX_WEBHOOK_SECRET)
        await self.runner.start()

    async def stop_bot(self) -> None:
        if self.runner:
            await self.runner.stop()
            self.runner = None
        if self.db:
            await self.db.close()
            self.db = None

    async def restart_bot(self) -> None:
        """Stop the bot and start a new one on the same database (what a deploy or a crash-restart does)."""
        await self.stop_bot()
        await self.start_bot()

    async def stop(self) -> None:
        await self.stop_bot()
        if self.client:
            await self.client.__aexit__(None, None, None)
            self.client = None
        await self.sandbox.stop()

    def welcome(self) -> str:
        url = self.sandbox.url
        server = self.runner.server if self.runner else None
        mode = (f"it posts updates to the bot's webhook, {server.cfg.public_url(server.port)}" if server
                else "the bot polls it exactly as it would poll Telegram")
        groups = "\n".join(f"    {g['title']}: chat id {g['id']}, its liaison is user {self.liaisons[k]['id']}"
                           for k, g in self.groups.items())
        return f"""
complaint-bot sandbox is running.
  Web chat:          {url}/   (open it in a browser: every role's chat, live)
  Bot API emulator:  {url}   ({mode})
  Database:          {self.config.storage.database}
  Group chats of the example city:
{groups}

Act as a resident (in another terminal; a liaison acts the same way with "chat_id" of the group):
  curl -s -XPOST {url}/_control/users -d '{{"first_name": "Li", "language_code": "zh"}}'   # -> {{"id": ID, ...}}
  curl -s -XPOST {url}/_control/send -d '{{"user_id": ID, "text": "/new"}}'
  curl -s '{url}/_control/messages?chat_id=ID'
Or let a scripted resident file a complaint:  complaint-bot sandbox --demo --port 0
Stop with Ctrl-C.
"""
