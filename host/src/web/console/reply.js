// Taking, giving back and closing a conversation, the reply box and its quick-reply chips.

import { BACKOFF_MS, KEY, SEND_RETRIES } from "./constants.js";
import { DEFAULT_QUICK_REPLIES, lang, t } from "./strings.js";
import { byTestId, el, readLocal, sleep, uuid, writeLocal } from "./dom.js";
import { S } from "./state.js";
import { api, conversationPath, describe, hideError, showError } from "./api.js";
import { applyConversation, applyMessage } from "./events.js";
import { renderViewHead } from "./conversation.js";

export async function move(action, button) {
  var view = S.view;
  if (!view) return;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    var answer = (await api("POST", conversationPath(view.id, "/" + action))).data;
    hideError();
    applyConversation(answer.conversation);
    if (answer.notice) applyMessage(answer.notice);
    if (action === "take" && S.view === view) byTestId("reply-input").focus();
  } catch (error) {
    if (error.status === 401) return;
    // Show who really holds it: the 409 was about a change this page had not seen yet.
    var fresh = await api("GET", conversationPath(view.id)).catch(function () {
      return null;
    });
    if (fresh) applyConversation(fresh.data.conversation);
    showError(describe(error, fresh ? fresh.data.conversation : view.conversation));
  } finally {
    button.removeAttribute("aria-busy");
    renderViewHead();
  }
}

export var sending = false;
// The reply being sent: its Idempotency-Key stays the same on every retry of the same
// text and chips, so the customer never gets it twice.
var pendingReply = null;

export async function sendReply() {
  var view = S.view;
  var input = byTestId("reply-input");
  var text = input.value.trim();
  if (!view || !text || sending || input.disabled) return;
  var quickReplies = selectedQuickReplies();
  var fingerprint = view.id + "\n" + text + "\n" + JSON.stringify(quickReplies);
  if (!pendingReply || pendingReply.fingerprint !== fingerprint) pendingReply = { fingerprint: fingerprint, key: uuid() };
  var key = pendingReply.key;
  sending = true;
  var button = byTestId("reply-send");
  button.disabled = true;
  button.textContent = t("sending");
  try {
    var answer = await sendWithRetries(view.id, key, { text: text, quick_replies: quickReplies });
    pendingReply = null;
    hideError();
    if (input.value.trim() === text) input.value = "";
    selectedChips.clear();
    renderQuickReplies();
    applyMessage(answer.data.message);
  } catch (error) {
    if (error.status !== 401) showError(error.status === 0 ? t("send_failed") : describe(error, view.conversation));
    // A refusal (not the network) will not change on a retry: the next try is new.
    if (error.status !== 0) pendingReply = null;
  } finally {
    sending = false;
    button.textContent = t("send");
    renderViewHead();
  }
}

async function sendWithRetries(id, key, body) {
  for (var attempt = 0; ; attempt++) {
    try {
      return await api("POST", conversationPath(id, "/reply"), { body: body, headers: { "Idempotency-Key": key } });
    } catch (error) {
      var transient = error.status === 0 || error.status >= 500;
      if (!transient || attempt >= SEND_RETRIES) throw error;
      await sleep(BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]);
    }
  }
}

export function onReplyKey(event) {
  // Enter sends, Shift+Enter is a new line; an IME composing Vietnamese (Telex, VNI)
  // confirms its word with Enter, which must not send.
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
    event.preventDefault();
    sendReply();
  }
}

// ---------------------------------------------------------------- quick replies

var selectedChips = new Set();

function quickReplies() {
  var saved = readLocal(KEY.quick);
  if (saved) {
    try {
      var list = JSON.parse(saved);
      if (Array.isArray(list)) return list.filter(function (item) {
        return typeof item === "string" && item.trim();
      });
    } catch (error) {
      // A broken list is replaced by the defaults below.
    }
  }
  return DEFAULT_QUICK_REPLIES[lang].slice();
}

function saveQuickReplies(list) {
  writeLocal(KEY.quick, JSON.stringify(list));
}

function selectedQuickReplies() {
  return quickReplies()
    .filter(function (title) {
      return selectedChips.has(title);
    })
    .map(function (title) {
      return { title: title, payload: title };
    });
}

export function renderQuickReplies() {
  var list = quickReplies();
  var holder = document.querySelector(".chip-list");
  holder.textContent = "";
  var enabled = !byTestId("reply-input").disabled;
  list.forEach(function (title) {
    var chip = el("button", {
      type: "button",
      className: "chip",
      "data-testid": "quick-chip",
      "aria-pressed": selectedChips.has(title) ? "true" : "false",
      text: title
    });
    chip.disabled = !enabled;
    chip.addEventListener("click", function () {
      if (selectedChips.has(title)) selectedChips.delete(title);
      else selectedChips.add(title);
      chip.setAttribute("aria-pressed", selectedChips.has(title) ? "true" : "false");
    });
    holder.appendChild(chip);
  });
  var editList = document.querySelector(".chip-edit-list");
  editList.textContent = "";
  list.forEach(function (title, index) {
    var remove = el("button", {
      type: "button",
      className: "link",
      "data-testid": "quick-remove",
      "aria-label": t("remove", { title: title }),
      text: "×"
    });
    remove.addEventListener("click", function () {
      var next = quickReplies();
      next.splice(index, 1);
      selectedChips.delete(title);
      saveQuickReplies(next);
      renderQuickReplies();
    });
    editList.appendChild(el("li", {}, [el("span", { text: title }), remove]));
  });
}

export function addQuickReply() {
  var input = byTestId("quick-new");
  var title = input.value.trim();
  if (!title) return;
  var list = quickReplies();
  if (list.indexOf(title) < 0 && list.length < 10) list.push(title);
  saveQuickReplies(list);
  input.value = "";
  renderQuickReplies();
  input.focus();
}

export function toggleQuickEditor() {
  var editor = byTestId("quick-editor");
  var button = byTestId("quick-edit");
  editor.hidden = !editor.hidden;
  button.setAttribute("aria-expanded", editor.hidden ? "false" : "true");
  button.textContent = t(editor.hidden ? "edit" : "done");
  if (!editor.hidden) byTestId("quick-new").focus();
}
