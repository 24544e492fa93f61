// The open conversation: its history page by page, the message bubbles, its header and contact.

import {
  DETAILS_DELAY_MS,
  MAX_HISTORY_PAGES,
  PAGE_LIMIT,
  STICK_TO_BOTTOM_PX,
} from "./constants.js";
import { t } from "./strings.js";
import { byTestId, el } from "./dom.js";
import { S, canAnswer, userId } from "./state.js";
import { api, conversationPath, describe, showError } from "./api.js";
import { conversationInHash } from "./session.js";
import { applyConversation } from "./events.js";
import { contactName, operatorName, scheduleRender, shortTime } from "./lists.js";
import { renderDetails } from "./details.js";
import { renderQuickReplies, sending } from "./reply.js";

/**
 * Opens a conversation: its history, contact, handovers and decisions. `S.view` is the
 * conversation on screen; a load that finishes after the operator moved on is dropped.
 */
export async function openConversation(id) {
  if (S.view && S.view.id === id) return;
  var entry = S.conversations.get(id);
  var view = {
    id: id,
    conversation: entry ? entry.conversation : null,
    contact: entry ? entry.contact : null,
    messages: new Map(),
    lastId: 0,
    resumeCursor: null,
    handovers: [],
    decisions: [],
    detailsTimer: null,
    // Numbers the reloads of the trace: an older answer arriving late is dropped.
    detailsAsked: 0
  };
  S.view = view;
  if (entry) {
    entry.unread = 0;
    if (entry.last_message) S.readUpTo.set(id, entry.last_message.id);
  }
  history.replaceState(null, "", "#c=" + id);
  renderView();
  scheduleRender();
  try {
    var loaded = await Promise.all([
      api("GET", conversationPath(id)),
      loadMessages(view, null),
      loadDetails(view)
    ]);
    if (S.view !== view) return;
    view.conversation = loaded[0].data.conversation;
    view.contact = loaded[0].data.contact || null;
    var known = S.conversations.get(id);
    if (known && !known.contact) known.contact = view.contact;
    renderView();
  } catch (error) {
    if (error.status === 401 || S.view !== view) return;
    showError(describe(error));
    if (error.status === 404) closeConversationView();
  }
}

export function closeConversationView() {
  if (S.view) clearTimeout(S.view.detailsTimer);
  S.view = null;
  if (conversationInHash()) history.replaceState(null, "", location.pathname);
  renderView();
}

/** Every message after `cursor` (all of them for `null`), page by page. */
async function loadMessages(view, cursor) {
  for (var page = 0; page < MAX_HISTORY_PAGES; page++) {
    var path = conversationPath(view.id, "/messages?limit=" + PAGE_LIMIT);
    if (cursor) path += "&cursor=" + encodeURIComponent(cursor);
    var data = (await api("GET", path)).data;
    if (S.view !== view) return;
    addMessages(view, data.messages || []);
    if (data.resume_cursor) view.resumeCursor = data.resume_cursor;
    if (!data.next_cursor) return;
    cursor = data.next_cursor;
  }
}

/** After the feed reconnects: the open conversation as it is, and what it missed. */
export async function catchUp(view) {
  var answer = await api("GET", conversationPath(view.id));
  if (S.view !== view) return;
  applyConversation(answer.data.conversation);
  await loadMessages(view, view.resumeCursor);
  await loadDetails(view);
}

async function loadDetails(view) {
  var asked = ++view.detailsAsked;
  var answers = await Promise.all([
    api("GET", conversationPath(view.id, "/handovers")),
    api("GET", conversationPath(view.id, "/decisions"))
  ]);
  if (S.view !== view || asked !== view.detailsAsked) return;
  view.handovers = answers[0].data.events || [];
  view.decisions = answers[1].data.decisions || [];
  renderDetails();
}

/**
 * Reloads the handovers and decisions soon. A reload already scheduled covers this
 * event too (it starts after it); postponing it instead would starve it while a busy
 * conversation keeps talking.
 */
export function scheduleDetails(view) {
  if (view.detailsTimer) return;
  view.detailsTimer = setTimeout(function () {
    view.detailsTimer = null;
    if (S.view !== view) return;
    loadDetails(view).catch(function (error) {
      if (error.status !== 401) console.warn("loa console: cannot reload the trace:", error.message);
    });
  }, DETAILS_DELAY_MS);
}

/** Adds messages not on screen yet (by id), in id order, following the bottom. */
export function addMessages(view, messages) {
  var list = byTestId("messages");
  var follow = list.scrollHeight - list.scrollTop - list.clientHeight < STICK_TO_BOTTOM_PX;
  var fresh = messages.filter(function (message) {
    return !view.messages.has(message.id);
  });
  if (!fresh.length) return;
  var inOrder = fresh.every(function (message, index) {
    return message.id > (index ? fresh[index - 1].id : view.lastId);
  });
  fresh.forEach(function (message) {
    view.messages.set(message.id, message);
    view.lastId = Math.max(view.lastId, message.id);
  });
  if (S.view !== view) return;
  if (inOrder) {
    fresh.forEach(function (message) {
      list.appendChild(bubble(message));
    });
  } else {
    renderMessages();
  }
  if (follow || fresh.some(isMine)) list.scrollTop = list.scrollHeight;
}

function isMine(message) {
  return message.sender && message.sender.kind === "operator" && message.sender.id === userId();
}

export function renderMessages() {
  var list = byTestId("messages");
  list.textContent = "";
  if (!S.view) return;
  Array.from(S.view.messages.values())
    .sort(function (a, b) {
      return a.id - b.id;
    })
    .forEach(function (message) {
      list.appendChild(bubble(message));
    });
  list.scrollTop = list.scrollHeight;
}

export function senderLabel(sender) {
  var kind = (sender && sender.kind) || "system";
  if (kind === "operator") return sender.id ? operatorName(sender.id) : t("sender_operator");
  return t("sender_" + kind);
}

/** One message: customer left, bot and operators right, system notices centred. */
function bubble(message) {
  var sender = message.sender || { kind: "system" };
  var content = message.content || {};
  var time = el("time", {
    datetime: new Date(message.created_at_ms).toISOString(),
    text: shortTime(message.created_at_ms)
  });
  var item = el("li", {
    className: "msg msg-" + sender.kind + (isMine(message) ? " msg-mine" : ""),
    "data-testid": "message",
    "data-id": message.id,
    "data-sender": sender.kind
  });
  if (sender.kind === "system") {
    item.appendChild(el("p", { className: "msg-text", text: content.text || "" }));
    item.appendChild(time);
    return item;
  }
  item.appendChild(el("div", { className: "msg-meta" }, [el("span", { className: "msg-author", text: senderLabel(sender) }), " ", time]));
  if (content.text) item.appendChild(el("p", { className: "msg-text", text: content.text }));
  (content.attachments || []).forEach(function (attachment) {
    var name = attachment.name || attachment.mime || t("attachment");
    item.appendChild(
      safeUrl(attachment.url)
        ? el("a", { className: "msg-file", href: attachment.url, target: "_blank", rel: "noopener noreferrer", text: name })
        : el("span", { className: "msg-file", text: name })
    );
  });
  (content.cards || []).forEach(function (card) {
    item.appendChild(
      el("div", { className: "msg-card" }, [
        el("strong", { text: card.title }),
        card.subtitle ? el("span", { text: card.subtitle }) : null,
        chipRow((card.buttons || []).map(buttonTitle))
      ])
    );
  });
  var chips = (content.buttons || []).map(buttonTitle).concat(
    (content.quick_replies || []).map(function (quick) {
      return quick.title;
    })
  );
  if (chips.length) item.appendChild(chipRow(chips));
  return item;
}

function buttonTitle(button) {
  return button.title;
}

function chipRow(titles) {
  return el(
    "div",
    { className: "msg-chips" },
    titles.map(function (title) {
      return el("span", { className: "msg-chip", text: title });
    })
  );
}

function safeUrl(url) {
  return /^https?:\/\//i.test(String(url || ""));
}

/** The whole view: placeholder, or the open conversation. */
export function renderView() {
  var view = S.view;
  var body = document.querySelector(".conversation-body");
  byTestId("no-conversation").hidden = !!view;
  body.hidden = !view;
  byTestId("details").hidden = !view;
  if (!view) {
    byTestId("messages").textContent = "";
    return;
  }
  renderViewHead();
  renderMessages();
  renderDetails();
  renderQuickReplies();
}

/** The header (who, state, holder), the move buttons and whether the reply is open. */
export function renderViewHead() {
  var view = S.view;
  if (!view) return;
  var conversation = view.conversation;
  var entry = S.conversations.get(view.id);
  var contact = view.contact || (entry && entry.contact);
  byTestId("contact-name").textContent = conversation ? contactName(contact, conversation) : "…";
  var badge = byTestId("state-badge", document.querySelector(".conversation-head"));
  var state = conversation ? conversation.state : "";
  badge.className = "state-badge state-" + state;
  badge.setAttribute("data-state", state);
  badge.textContent = state ? t("state_" + state) : "";
  var holder = byTestId("holder");
  holder.textContent = state === "human" ? t("held_by", { name: operatorName(conversation.assigned_to) }) : "";
  var mine = state === "human" && conversation.assigned_to === userId();
  var allowed = canAnswer() && !!conversation;
  byTestId("take").disabled = !allowed || (state !== "bot" && state !== "waiting");
  byTestId("give-back").disabled = !allowed || !mine;
  byTestId("close").disabled = !allowed || state === "closed" || (state === "human" && !mine);
  var hint = "";
  if (!conversation) hint = "";
  else if (!canAnswer()) hint = t("hint_viewer");
  else if (state === "closed") hint = t("hint_closed");
  else if (state === "human" && !mine) hint = t("hint_other", { name: operatorName(conversation.assigned_to) });
  else if (!mine) hint = t("hint_take");
  var hintNode = byTestId("reply-hint");
  hintNode.textContent = hint;
  hintNode.hidden = !hint;
  setReplyEnabled(mine && canAnswer());
  renderContact();
}

function setReplyEnabled(enabled) {
  var input = byTestId("reply-input");
  input.disabled = !enabled;
  byTestId("reply-send").disabled = !enabled || sending;
  document.querySelectorAll('[data-testid="quick-chip"]').forEach(function (chip) {
    chip.disabled = !enabled;
  });
}

function renderContact() {
  var view = S.view;
  var facts = byTestId("contact-info");
  facts.textContent = "";
  if (!view || !view.conversation) return;
  var contact = view.contact || {};
  var conversation = view.conversation;
  [
    ["customer", contact.display_name || null],
    ["contact_id", conversation.contact_id],
    ["channel", conversation.channel_id],
    ["channel_user", contact.channel_user_id || null],
    ["bot_label", conversation.bot_id],
    ["language_label", conversation.language],
    ["started", shortTime(conversation.created_at_ms)],
    ["conversation_id", conversation.id]
  ].forEach(function (pair) {
    if (!pair[1]) return;
    facts.appendChild(el("dt", { text: t(pair[0]) }));
    facts.appendChild(el("dd", { text: pair[1] }));
  });
}
