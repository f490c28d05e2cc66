// The sandbox web chat: a Telegram-like client of the emulator's control API (sandbox/webchat.py).
// Everything a person reads comes from the bot (its messages) or from i18n.json (this page's own words).
// Text that came from anyone is put in the page with textContent / createTextNode, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const KIND_ORDER = ["resident", "social_supervisor", "admin", "coordination", "supervision", "unit"];
const SAFE_URL = /^(https?:|tg:|mailto:)/i;

const app = {
  i18n: {}, lang: localStorage.getItem("webchat.lang") || "zh",
  chats: [], current: null, city: null, commands: [], seq: 0,
  unread: new Map(), pending: new Set(), keyboard: null, picked: null, source: null, held: null, answers: new Map(), replyTo: null, entries: new Map(),
};

// ---- words ---------------------------------------------------------------------------------------------
function t(key, params = {}) {
  const text = (app.i18n[app.lang] || {})[key] ?? (app.i18n.zh || {})[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}

function applyLanguage() {
  document.documentElement.lang = app.lang;
  document.title = t("app.title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  for (const el of document.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  renderChatList();
  if (app.current) openChat(app.current.chat_id, false);
  drawMap();
}

// ---- control API ---------------------------------------------------------------------------------------
async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const resp = await fetch(`/_control/${path}`, init);
  const data = await resp.json();
  if (!resp.ok) throw new Error(data.error || resp.statusText);
  return data;
}

const fileUrl = (fileId) => `/_control/file?file_id=${encodeURIComponent(fileId)}`;

// ---- the chat list -------------------------------------------------------------------------------------
async function loadDirectory() {
  const data = await api("GET", "directory");
  app.chats = data.chats;
  renderChatList();
  return data.seq;
}

function chatName(chat) {
  return chat.kind === "resident" || chat.kind === "social_supervisor" || chat.kind === "admin" ? chat.user_name : chat.title;
}

function renderChatList() {
  const list = $("chats");
  list.replaceChildren();
  for (const kind of KIND_ORDER) {
    const chats = app.chats.filter((c) => c.kind === kind);
    if (!chats.length) continue;
    const label = document.createElement("li");
    label.className = "group-label";
    label.textContent = t(`kind.${kind}`);
    list.append(label);
    for (const chat of chats) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "chat-item";
      button.dataset.chatId = chat.chat_id;
      button.dataset.kind = chat.kind;
      button.setAttribute("aria-current", String(app.current?.chat_id === chat.chat_id));
      const avatar = document.createElement("span");
      avatar.className = "avatar";
      avatar.setAttribute("aria-hidden", "true");
      avatar.textContent = Array.from(chatName(chat).replace(/^.*-/, ""))[0] || "?";
      avatar.dataset.kind = chat.kind;
      const names = document.createElement("span");
      names.className = "names";
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = chatName(chat);
      const role = document.createElement("span");
      role.className = "role";
      role.textContent = chat.type === "private" ? (chat.language_code === "en" ? t("chat.language_en") : t(`kind.${kind}`))
        : t("chat.acting_as", { name: chat.user_name });
      names.append(name, role);
      button.append(avatar, names);
      const unread = app.unread.get(chat.chat_id) || 0;
      if (unread) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = String(unread);
        button.append(badge);
      }
      button.addEventListener("click", () => openChat(chat.chat_id));
      li.append(button);
      list.append(li);
    }
  }
}

// ---- one chat ------------------------------------------------------------------------------------------
async function openChat(chatId, focus = true) {
  const chat = app.chats.find((c) => c.chat_id === chatId);
  if (!chat) return;
  if (app.current?.chat_id !== chatId) $("toasts").replaceChildren();  // a button's answer belongs to its chat
  app.current = chat;
  app.unread.delete(chatId);
  document.body.classList.replace("show-list", "show-chat");
  $("no-chat").hidden = true;
  $("chat-pane").hidden = false;
  $("chat-pane").dataset.chatId = String(chatId);
  $("chat-title").textContent = chatName(chat);
  $("chat-sub").textContent = chat.type === "private" ? t(`kind.${chat.kind}`) : t("chat.acting_as", { name: chat.user_name });
  renderChatList();
  app.held = [];  // live events that arrive while the history loads are applied after it
  const [messages] = await Promise.all([api("GET", `messages?chat_id=${chatId}`), loadCommands()]);
  if (app.current !== chat) return;
  const list = $("messages");
  list.replaceChildren();
  app.keyboard = null;
  app.replyTo = null;
  app.entries = new Map();
  for (const m of messages) if (!m.deleted) placeMessage(m);
  for (const m of messages) {
    if (!m.outgoing) app.replyTo = null;  // answered already
    noteKeyboard(m);
  }
  renderKeyboard();
  const held = app.held;
  app.held = null;
  for (const event of held) onEvent(event);
  scrollDown();
  $("chat-pane").dataset.loaded = String(chatId);
  if (focus) $("text").focus();
}

// An image that loads late makes the list taller: keep the newest message in view unless the person scrolled up.
function stickToBottom(ev) {
  const list = $("messages");
  const distance = list.scrollHeight - list.scrollTop - list.clientHeight;
  if (distance < ev.target.clientHeight + 120) scrollDown();
}

function scrollDown() {
  const list = $("messages");
  list.scrollTop = list.scrollHeight;
}

function isMine(m) {
  return !m.outgoing;
}

// Messages of the open chat by id: an album (one media_group_id) is drawn as one bubble from all its parts.
function placeMessage(m) {
  app.entries.set(m.message_id, m);
  const list = $("messages");
  const group = m.media_group_id;
  const old = list.querySelector(group ? `[data-group="${group}"]` : `[data-mid="${m.message_id}"]`);
  const el = group ? renderAlbum(group) : renderMessage(m);
  if (!el) old?.remove();
  else if (old) old.replaceWith(el);
  else list.append(el);
}

function removeMessage(m) {
  app.entries.delete(m.message_id);
  if (m.media_group_id) {
    placeMessage({ ...m, deleted: true });
    app.entries.delete(m.message_id);
    return;
  }
  $("messages").querySelector(`[data-mid="${m.message_id}"]`)?.remove();
}

function renderAlbum(group) {
  const parts = [...app.entries.values()].filter((e) => e.media_group_id === group && !e.deleted)
    .sort((a, b) => a.message_id - b.message_id);
  if (!parts.length) return null;
  const li = renderMessage(parts[0]);
  const album = li.querySelector(".album");
  for (const part of parts.slice(1)) {
    const el = renderMessage(part);
    album?.append(...el.querySelector(".album").childNodes);
    for (const body of el.querySelectorAll(".body")) li.insertBefore(body, li.querySelector(".meta"));
  }
  li.dataset.mids = parts.map((p) => p.message_id).join(" ");
  return li;
}

function renderMessage(m) {
  const li = document.createElement("li");
  li.className = `msg ${isMine(m) ? "mine" : "bot"}`;
  li.dataset.mid = m.message_id;
  li.dataset.mids = String(m.message_id);
  if (m.media_group_id) li.dataset.group = m.media_group_id;
  if (m.migrate_to_chat_id || m.migrate_from_chat_id) {
    li.className = "msg service";
    li.textContent = t("msg.migrated");
    return li;
  }
  const sender = document.createElement("div");
  sender.className = "sender";
  sender.textContent = m.outgoing ? (m.from?.first_name || t("msg.bot")) : (m.from?.first_name || "");
  li.append(sender);
  if (m.reply_to_message) {
    const quote = document.createElement("div");
    quote.className = "quote";
    quote.textContent = m.reply_to_message.text || m.reply_to_message.caption || "…";
    li.append(quote);
  }
  const media = renderMedia(m);
  if (media) li.append(media);
  const text = m.text ?? m.caption;
  if (text) {
    const body = document.createElement("div");
    body.className = "body";
    body.dataset.albumMid = m.message_id;
    body.append(renderEntities(text, m.entities || m.caption_entities || []));
    li.append(body);
  }
  if (!media && !text) {
    const body = document.createElement("div");
    body.className = "body";
    body.textContent = t("msg.unsupported");
    li.append(body);
  }
  const buttons = m.reply_markup?.inline_keyboard;
  if (buttons) li.append(renderInlineKeyboard(m, buttons));
  const meta = document.createElement("div");
  meta.className = "meta";
  const time = new Date(m.date * 1000).toLocaleTimeString(app.lang === "zh" ? "zh-CN" : "en-GB", { hour: "2-digit", minute: "2-digit" });
  meta.textContent = (m.edit_count ? `${t("msg.edited")} · ` : "") + time;
  li.append(meta);
  return li;
}

function renderMedia(m) {
  if (m.photo) {
    const album = document.createElement("div");
    album.className = m.media_group_id ? "album" : "single";
    const img = document.createElement("img");
    img.className = "photo";
    img.alt = m.caption || "photo";
    img.src = fileUrl(m.photo[m.photo.length - 1].file_id);
    img.addEventListener("load", stickToBottom);
    img.dataset.albumMid = m.message_id;
    album.append(img);
    if (!m.media_group_id) return album;
    const wrap = document.createElement("div");
    wrap.className = "album";
    wrap.append(img);
    return wrap;
  }
  if (m.document) {
    const box = document.createElement(m.media_group_id ? "div" : "div");
    box.className = m.media_group_id ? "album" : "single";
    const a = document.createElement("a");
    a.className = "doc";
    a.href = fileUrl(m.document.file_id);
    a.download = m.document.file_name || "document";
    a.dataset.albumMid = m.message_id;
    a.textContent = `📄 ${m.document.file_name || "document"} (${formatSize(m.document.file_size || 0)}) · ${t("msg.download")}`;
    box.append(a);
    return box;
  }
  if (m.location) {
    const box = document.createElement("div");
    box.className = "location";
    box.append(miniMap(m.location.latitude, m.location.longitude));
    const line = document.createElement("div");
    if (m.venue) {
      const title = document.createElement("div");
      title.className = "venue-title";
      title.textContent = `📍 ${m.venue.title}`;
      line.textContent = m.venue.address;
      box.append(title);
    } else {
      line.textContent = `📍 ${t("msg.location")} ${m.location.latitude.toFixed(5)}, ${m.location.longitude.toFixed(5)}`;
    }
    box.append(line);
    return box;
  }
  if (m.sticker) {
    const s = document.createElement("div");
    s.className = "sticker";
    s.textContent = m.sticker.emoji || "🙂";
    return s;
  }
  if (m.voice) {
    const v = document.createElement("div");
    v.textContent = `🎤 ${t("msg.voice", { s: m.voice.duration })}`;
    return v;
  }
  return null;
}

function formatSize(bytes) {
  return bytes > 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

// Telegram's entities (offsets in UTF-16 code units, as JavaScript strings count) to elements: only the
// formatting Telegram has, and links only to http(s), tg: and mailto:.
function renderEntities(text, entities) {
  const sorted = [...entities].sort((a, b) => a.offset - b.offset || b.length - a.length);
  const build = (start, end, items) => {
    const frag = document.createDocumentFragment();
    let pos = start;
    for (let i = 0; i < items.length; i++) {
      const e = items[i];
      if (e.offset < pos) continue; // nested in an earlier one (handled there) or overlapping
      if (e.offset > pos) frag.append(document.createTextNode(text.slice(pos, e.offset)));
      const stop = Math.min(end, e.offset + e.length);
      const inner = items.filter((o, j) => j > i && o.offset >= e.offset && o.offset + o.length <= stop);
      const el = entityElement(e, text.slice(e.offset, stop));
      el.append(build(e.offset, stop, inner));
      frag.append(el);
      pos = stop;
    }
    if (pos < end) frag.append(document.createTextNode(text.slice(pos, end)));
    return frag;
  };
  return build(0, text.length, sorted);
}

function entityElement(e, content) {
  const tag = { bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre",
    blockquote: "blockquote", expandable_blockquote: "blockquote" }[e.type];
  if (tag) return document.createElement(tag);
  if (e.type === "text_link" || e.type === "url") {
    const href = e.type === "url" ? (/^[a-z]+:/i.test(content) ? content : `http://${content}`) : e.url;
    if (!SAFE_URL.test(href || "")) return document.createElement("span");
    const a = document.createElement("a");
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }
  if (e.type === "bot_command") {  // Telegram sends a command tapped in a message
    const button = document.createElement("button");
    button.type = "button";
    button.className = "cmd";
    button.addEventListener("click", () => sendText(content));
    return button;
  }
  const span = document.createElement("span");
  if (e.type === "spoiler") {
    span.className = "spoiler";
    span.tabIndex = 0;
  } else {
    span.className = e.type;
  }
  return span;
}

function renderInlineKeyboard(m, rows) {
  const box = document.createElement("div");
  box.className = "inline-keyboard";
  for (const row of rows) {
    const r = document.createElement("div");
    r.className = "row";
    for (const b of row) {
      if (b.url && SAFE_URL.test(b.url)) {
        const a = document.createElement("a");
        a.href = b.url;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        a.textContent = `${b.text} ↗`;
        r.append(a);
        continue;
      }
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = b.text;
      if ("callback_data" in b) button.addEventListener("click", () => press(m, b.callback_data, button));
      else if ("copy_text" in b) button.addEventListener("click", () => navigator.clipboard?.writeText(b.copy_text.text));
      else button.disabled = true;
      r.append(button);
    }
    box.append(r);
  }
  return box;
}

// ---- the reply keyboard ------------------------------------------------------------------------------
function noteKeyboard(m) {
  if (!m.reply_keyboard || m.deleted) return;
  if (m.reply_keyboard.force_reply) {
    app.replyTo = m.message_id;  // the next thing typed answers this message, as Telegram's apps do
    return;
  }
  app.keyboard = m.reply_keyboard.keyboard ? m.reply_keyboard : null;
}

function renderKeyboard() {
  const box = $("reply-keyboard");
  box.replaceChildren();
  const kb = app.keyboard;
  box.hidden = !kb;
  $("text").placeholder = kb?.input_field_placeholder || t("composer.placeholder");
  if (!kb) return;
  for (const row of kb.keyboard) {
    const r = document.createElement("div");
    r.className = "row";
    for (const raw of row) {
      const b = typeof raw === "string" ? { text: raw } : raw;
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = b.text;
      button.addEventListener("click", () => {
        if (kb.one_time_keyboard) {
          app.keyboard = null;
          renderKeyboard();
        }
        if (b.request_location) openMap();
        else sendText(b.text);
      });
      r.append(button);
    }
    box.append(r);
  }
}

// ---- acting ------------------------------------------------------------------------------------------
function target() {
  const c = app.current;
  return { user_id: c.user_id, chat_id: c.chat_id };
}

async function send(content) {
  const replyTo = app.replyTo;
  app.replyTo = null;
  try {
    await api("POST", "send", { ...target(), ...content, ...(replyTo ? { reply_to_message_id: replyTo } : {}) });
  } catch (err) {
    toast(t("error.failed", { error: err.message }));
  }
}

function sendText(text) {
  if (text.trim()) return send({ text });
}

async function press(m, data, button) {
  button.disabled = true;
  try {
    const { callback_query_id: id } = await api("POST", "press", { user_id: app.current.user_id, chat_id: m.chat.id, message_id: m.message_id, data });
    if (app.answers.has(id)) showAnswer(app.answers.get(id));  // the bot answered before the press returned
    else app.pending.add(id);
    app.answers.delete(id);
  } catch (err) {
    toast(t("error.failed", { error: err.message }));
  } finally {
    button.disabled = false;
  }
}

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function sendFiles(files) {
  if (!files.length) return;
  if (files.length > 10) {
    toast(t("composer.too_many"));
    return;
  }
  const asFile = $("as-file").checked;
  const items = [];
  for (const file of files) {
    const data_b64 = await readBase64(file);
    items.push(asFile ? { document: { data_b64, file_name: file.name, mime_type: file.type || "application/octet-stream" } }
      : { photo: { data_b64 } });
  }
  const caption = $("text").value.trim();
  $("text").value = "";
  const extra = caption ? { caption } : {};
  await send(items.length === 1 ? { ...items[0], ...extra } : { album: items, ...extra });
}

// ---- command menu --------------------------------------------------------------------------------------
async function loadCommands() {
  try {
    app.commands = await api("GET", "commands");
  } catch {
    app.commands = [];
  }
}

function commandsFor(chat) {
  const lang = chat.language_code || "";
  const scopes = chat.type === "private" ? ["chat", "all_private_chats", "default"]
    : ["chat_member", "chat_administrators", "chat", "all_chat_administrators", "all_group_chats", "default"];
  for (const scope of scopes) {
    const sets = app.commands.filter((c) => c.scope.type === scope && (!c.scope.chat_id || Number(c.scope.chat_id) === chat.chat_id));
    const found = sets.find((c) => c.language_code === lang) || sets.find((c) => c.language_code === "");
    if (found) return found.commands;
  }
  return [];
}

function showSuggestions(all = false) {
  const box = $("suggestions");
  const value = $("text").value;
  const prefix = value.startsWith("/") && !value.includes(" ") ? value.slice(1).toLowerCase() : null;
  if (!app.current || (!all && prefix === null)) {
    box.hidden = true;
    return;
  }
  const commands = commandsFor(app.current).filter((c) => all || c.command.startsWith(prefix || ""));
  box.replaceChildren();
  for (const c of commands) {
    const b = document.createElement("button");
    b.type = "button";
    b.setAttribute("role", "option");
    const name = document.createElement("span");
    name.textContent = `/${c.command}`;
    const desc = document.createElement("span");
    desc.className = "desc";
    desc.textContent = c.description;
    b.append(name, desc);
    b.addEventListener("click", () => {
      $("text").value = `/${c.command} `;
      box.hidden = true;
      $("text").focus();
    });
    box.append(b);
  }
  box.hidden = commands.length === 0;
}

// ---- the map -------------------------------------------------------------------------------------------
const SVG = "http://www.w3.org/2000/svg";

function projection() {
  const b = app.city.bounds;
  const k = Math.cos(((b.north + b.south) / 2) * Math.PI / 180);
  const scale = 1000 / ((b.east - b.west) * k);
  return {
    width: 1000, height: (b.north - b.south) * scale,
    x: (lon) => (lon - b.west) * k * scale, y: (lat) => (b.north - lat) * scale,
    lon: (x) => b.west + x / (k * scale), lat: (y) => b.north - y / scale,
  };
}

function svgEl(name, attrs = {}) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

function zonePaths(p, svg, withLabels) {
  app.city.zones.forEach((zone, i) => {
    const d = zone.rings.map((ring) => "M" + ring.map(([lon, lat]) => `${p.x(lon).toFixed(1)},${p.y(lat).toFixed(1)}`).join("L") + "Z").join("");
    const path = svgEl("path", { d, class: "zone", fill: `hsl(${(i * 47) % 360} 45% ${zone.priority ? 62 : 78}%)`, "data-unit": zone.unit });
    const title = svgEl("title");
    title.textContent = zone.name[app.lang] || zone.name.zh;
    path.append(title);
    svg.append(path);
  });
  if (!withLabels) return;
  for (const zone of app.city.zones) {
    const label = svgEl("text", { x: p.x(zone.label[0]), y: p.y(zone.label[1]), class: "zone-label", "data-unit": zone.unit });
    label.textContent = zone.name[app.lang] || zone.name.zh;
    svg.append(label);
  }
}

const hasMap = () => typeof app.city?.bounds?.north === "number";

function drawMap() {
  const select = $("place");
  select.replaceChildren(new Option(t("map.place_none"), ""));
  for (const place of app.city?.places || []) select.append(new Option(place.name[app.lang] || place.name.zh, place.key));
  if (!hasMap()) return;  // a sandbox without a city: named places only, if any
  const p = projection();
  const svg = svgEl("svg", { viewBox: `0 0 ${p.width} ${p.height.toFixed(0)}`, role: "img", "aria-label": t("map.title") });
  zonePaths(p, svg, true);
  for (const place of app.city.places) {
    const pin = svgEl("circle", { cx: p.x(place.lon), cy: p.y(place.lat), r: 4, class: "place-pin" });
    svg.append(pin);
  }
  svg.addEventListener("click", (ev) => {
    const pt = svg.createSVGPoint();
    pt.x = ev.clientX;
    pt.y = ev.clientY;
    const local = pt.matrixTransform(svg.getScreenCTM().inverse());
    pick(p.lat(local.y), p.lon(local.x));
    $("place").value = "";
  });
  $("map").replaceChildren(svg);
  if (app.picked) pick(app.picked.lat, app.picked.lon, app.picked.place);
}

function pick(lat, lon, place = null) {
  app.picked = { lat, lon, place };
  const svg = $("map").querySelector("svg");
  if (svg) {
    const p = projection();
    svg.querySelector(".marker")?.remove();
    svg.append(svgEl("circle", { cx: p.x(lon), cy: p.y(lat), r: 12, class: "marker" }));
  }
  $("map-picked").textContent = (place ? `${place.name[app.lang] || place.name.zh} · ` : "")
    + t("map.picked", { lat: lat.toFixed(5), lon: lon.toFixed(5) });
  $("map-send").disabled = false;
}

function openMap() {
  app.picked = null;
  drawMap();
  $("map-picked").textContent = "";
  $("map-send").disabled = true;
  $("map-dialog").showModal();
}

function miniMap(lat, lon) {
  if (!hasMap()) return document.createTextNode("");
  const p = projection();
  const svg = svgEl("svg", { viewBox: `0 0 ${p.width} ${p.height.toFixed(0)}`, "aria-hidden": "true", class: "mini" });
  zonePaths(p, svg, false);
  svg.append(svgEl("circle", { cx: p.x(lon), cy: p.y(lat), r: 22, class: "marker" }));
  return svg;
}

// ---- notices -------------------------------------------------------------------------------------------
function toast(text) {
  const el = document.createElement("div");
  el.className = "toast";
  el.textContent = text;
  $("toasts").append(el);
  setTimeout(() => el.remove(), 4000);
}

function showAnswer(answer) {
  if (answer.text) (answer.show_alert ? alertBox : toast)(answer.text);
}

function alertBox(text) {
  $("alert-text").textContent = text;
  $("alert-dialog").showModal();
}

// ---- live updates --------------------------------------------------------------------------------------
function onEvent(event) {
  app.seq = event.seq;
  if (event.kind === "reset") {
    location.reload();
    return;
  }
  if (event.kind === "callback_answer") {
    const answer = event.answer || {};
    if (app.pending.delete(event.callback_query_id)) showAnswer(answer);
    else app.answers.set(event.callback_query_id, answer);  // maybe our press, still on its way back
    if (app.answers.size > 50) app.answers.delete(app.answers.keys().next().value);
    return;
  }
  const m = event.message;
  if (!m) return;
  if (!app.chats.some((c) => c.chat_id === event.chat_id)) {
    loadDirectory();
    return;
  }
  if (app.current?.chat_id === event.chat_id && app.held) {
    app.held.push(event);
    return;
  }
  if (app.current?.chat_id !== event.chat_id) {
    if (event.kind === "message") {
      app.unread.set(event.chat_id, (app.unread.get(event.chat_id) || 0) + 1);
      renderChatList();
    }
    return;
  }
  if (event.kind === "delete") removeMessage(m);
  else placeMessage(m);
  if (event.kind === "message") {
    noteKeyboard(m);
    renderKeyboard();
  }
  scrollDown();
}

function listen(after) {
  app.seq = after;
  const source = new EventSource(`/_control/stream?after=${after}`);
  app.source = source;
  source.addEventListener("update", (ev) => onEvent(JSON.parse(ev.data)));
  source.addEventListener("open", () => document.body.classList.remove("offline"));
  source.addEventListener("error", () => document.body.classList.add("offline"));
}

// ---- start ---------------------------------------------------------------------------------------------
async function start() {
  app.i18n = await (await fetch("/web/i18n.json")).json();
  try {
    await document.fonts.load('15px "Sandbox CJK"', "中");  // a no-op where the system has the font
  } catch {
    // the page still works with whatever font there is
  }
  app.city = await api("GET", "city");
  const seq = await loadDirectory();
  listen(seq);
  applyLanguage();
  $("lang").addEventListener("click", () => {
    app.lang = app.lang === "zh" ? "en" : "zh";
    localStorage.setItem("webchat.lang", app.lang);
    applyLanguage();
  });
  $("back").addEventListener("click", () => document.body.classList.replace("show-chat", "show-list"));
  $("composer").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("text").value;
    $("text").value = "";
    $("suggestions").hidden = true;
    sendText(text);
  });
  $("text").addEventListener("input", () => showSuggestions());
  $("commands-button").addEventListener("click", () => ($("suggestions").hidden ? showSuggestions(true) : ($("suggestions").hidden = true)));
  $("file").addEventListener("change", async (ev) => {
    const files = [...ev.target.files];
    ev.target.value = "";
    await sendFiles(files);
  });
  $("location-button").addEventListener("click", openMap);
  $("map-cancel").addEventListener("click", () => $("map-dialog").close());
  $("map-send").addEventListener("click", () => {
    const { lat, lon, place } = app.picked;
    $("map-dialog").close();
    const point = { latitude: lat, longitude: lon };
    // a named place goes as a venue, as Telegram's apps send a place picked from their list
    send(place ? { venue: { ...point, title: place.name.zh, address: place.area?.zh || place.name.zh } } : { location: point });
  });
  $("place").addEventListener("change", (ev) => {
    const place = (app.city?.places || []).find((pl) => pl.key === ev.target.value);
    if (place) pick(place.lat, place.lon, place);
  });
  $("alert-ok").addEventListener("click", () => $("alert-dialog").close());
  document.body.dataset.ready = "true";
}

start();
