// The queue, mine and all lists of conversations, wait times and the operators present.

import { PRESENCE_TTL_MS, RENDER_DELAY_MS } from "./constants.js";
import { lang, t } from "./strings.js";
import { byTestId, el } from "./dom.js";
import { S, now, userId } from "./state.js";
import { live, setLiveStatus } from "./live.js";
import { renderView, senderLabel } from "./conversation.js";
import { renderPresence } from "./presence.js";

var renderTimer = null;

export function scheduleRender() {
  if (renderTimer) return;
  renderTimer = setTimeout(function () {
    renderTimer = null;
    renderLists();
    renderOperators();
  }, RENDER_DELAY_MS);
}

export function renderAll() {
  renderLists();
  renderOperators();
  renderPresence();
  setLiveStatus(live.connected);
  renderView();
}

export function renderLists() {
  var me = userId();
  var entries = Array.from(S.conversations.values());
  var byActivity = function (a, b) {
    return b.conversation.last_activity_ms - a.conversation.last_activity_ms;
  };
  var queue = entries
    .filter(function (entry) {
      return entry.conversation.state === "waiting";
    })
    .sort(function (a, b) {
      return a.conversation.state_changed_at_ms - b.conversation.state_changed_at_ms;
    });
  var mine = entries
    .filter(function (entry) {
      return entry.conversation.state === "human" && entry.conversation.assigned_to === me;
    })
    .sort(byActivity);
  var all = entries.slice().sort(byActivity);
  fillList("queue", queue);
  fillList("mine", mine);
  fillList("all", all);
  tickWaitTimes();
  // The tab's title counts waiting customers, seen from another tab or the taskbar.
  document.title = (queue.length ? "(" + queue.length + ") " : "") + "loa · " + t("console_title");
}

/** Replaces the rows of one list, keeping the keyboard focus on the row it was on. */
function fillList(name, entries) {
  var list = byTestId(name);
  var focused = document.activeElement;
  var focusedId = focused && list.contains(focused) ? focused.getAttribute("data-id") : null;
  list.textContent = "";
  entries.forEach(function (entry) {
    list.appendChild(el("li", {}, [conversationRow(entry)]));
  });
  byTestId(name + "-count").textContent = String(entries.length);
  list.parentElement.querySelector(".empty").hidden = entries.length > 0;
  if (focusedId) {
    var again = list.querySelector('[data-id="' + CSS.escape(focusedId) + '"]');
    if (again) again.focus();
  }
}

function conversationRow(entry) {
  var conversation = entry.conversation;
  var open = S.view && S.view.id === conversation.id;
  var waiting = conversation.state === "waiting";
  var time = (entry.last_message ? entry.last_message.created_at_ms : conversation.last_activity_ms) || 0;
  return el(
    "button",
    {
      type: "button",
      className: "row" + (entry.unread ? " row-unread" : ""),
      "data-testid": "conversation-row",
      "data-id": conversation.id,
      "data-state": conversation.state,
      "aria-current": open ? "true" : null
    },
    [
      el("span", { className: "row-top" }, [
        el("span", { className: "row-name", text: contactName(entry.contact, conversation) }),
        stateBadge(conversation.state),
        el("time", { className: "row-time", datetime: new Date(time).toISOString(), text: shortTime(time) })
      ]),
      el("span", { className: "row-bottom" }, [
        el("span", { className: "row-preview", text: preview(entry.last_message) }),
        el("span", {
          className: "unread",
          "data-testid": "unread",
          text: String(entry.unread),
          hidden: entry.unread ? null : true
        })
      ]),
      el("span", { className: "row-meta" }, [
        el("span", { className: "row-channel", text: conversation.channel_id }),
        waiting
          ? el("span", {
              className: "wait-time",
              "data-testid": "wait-time",
              "data-since": conversation.state_changed_at_ms
            })
          : conversation.state === "human"
            ? el("span", { className: "row-holder", text: operatorName(conversation.assigned_to) })
            : null
      ])
    ]
  );
}

export function stateBadge(state) {
  return el("span", {
    className: "state-badge state-" + state,
    "data-testid": "state-badge",
    "data-state": state,
    text: t("state_" + state)
  });
}

export function contactName(contact, conversation) {
  if (contact && contact.display_name) return contact.display_name;
  var raw = (contact && contact.channel_user_id) || conversation.contact_id;
  return t("visitor") + " " + String(raw).slice(-6);
}

function preview(message) {
  if (!message) return t("no_messages");
  var content = message.content || {};
  var text = content.text;
  if (!text && content.attachments && content.attachments.length) text = t("attachment");
  if (!text && content.cards && content.cards.length) text = t("card");
  text = (text || "").replace(/\s+/g, " ").trim();
  var kind = message.sender && message.sender.kind;
  return kind && kind !== "contact" ? senderLabel(message.sender) + ": " + text : text;
}

/** Updates every wait time on screen (mm:ss since the conversation started waiting). */
export function tickWaitTimes() {
  var current = now();
  document.querySelectorAll('[data-testid="wait-time"]').forEach(function (node) {
    var since = Number(node.getAttribute("data-since"));
    var text = duration(current - since);
    node.textContent = text;
    node.setAttribute("aria-label", t("waiting_since", { time: text }));
  });
}

/** `mm:ss`, or `h:mm:ss` past an hour. */
export function duration(ms) {
  var seconds = Math.max(0, Math.floor(ms / 1000));
  var hours = Math.floor(seconds / 3600);
  var minutes = Math.floor((seconds % 3600) / 60);
  var rest = seconds % 60;
  var mmss = String(minutes).padStart(2, "0") + ":" + String(rest).padStart(2, "0");
  return hours ? hours + ":" + mmss : mmss;
}

function locale() {
  return lang === "vi" ? "vi-VN" : "en-GB";
}

/** The time of day for today's moments, else the date too. */
export function shortTime(ms) {
  var date = new Date(ms);
  var today = new Date().toDateString() === date.toDateString();
  var options = today ? { hour: "2-digit", minute: "2-digit" } : { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" };
  return new Intl.DateTimeFormat(locale(), options).format(date);
}

export function operatorName(id) {
  if (!id) return t("nobody");
  if (id === userId()) return t("you");
  var operator = S.operators.get(id);
  if (operator && operator.display_name) return operator.display_name;
  return S.members.get(id) || id;
}

export function renderOperators() {
  var list = byTestId("operators");
  list.textContent = "";
  var present = now() - PRESENCE_TTL_MS;
  var operators = Array.from(S.operators.values())
    .filter(function (operator) {
      return operator.updated_at_ms >= present;
    })
    .sort(function (a, b) {
      if (a.status !== b.status) return a.status === "online" ? -1 : 1;
      return String(a.display_name).localeCompare(String(b.display_name), locale());
    });
  if (!operators.length) list.appendChild(el("li", { className: "empty", text: t("no_operators") }));
  operators.forEach(function (operator) {
    var name = operator.user_id === userId() ? operator.display_name + " (" + t("you") + ")" : operator.display_name;
    list.appendChild(
      el("li", { className: "operator", "data-testid": "operator", "data-user-id": operator.user_id, "data-status": operator.status }, [
        el("span", { className: "dot dot-" + operator.status, "aria-hidden": "true" }),
        el("span", { className: "operator-name", text: name }),
        el("span", { className: "operator-status", text: t(operator.status === "online" ? "online" : "away") })
      ])
    );
  });
}
