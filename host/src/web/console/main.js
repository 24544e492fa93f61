// loa operator console's entry: wires the page's controls, exposes window.loaConsole for
// tests, and starts on the login form or, with tokens from this tab, on the console.
//
// Shop staff log in, watch the bot's conversations live and answer the ones handed over to
// a person. No build step, no dependencies: native ES modules served from the binary at
// /console (host/src/http/console.rs). It talks to the admin API of the same host with a
// bearer token kept in sessionStorage (one login per tab) and follows the tenant's live
// feed. Every server-provided string is rendered with textContent or attributes, never as
// HTML.

import { KEY, PRESENCE_EVERY_MS } from "./constants.js";
import { lang } from "./strings.js";
import { byTestId } from "./dom.js";
import { S, userId } from "./state.js";
import { hideError } from "./api.js";
import {
  conversationInHash,
  enterConsole,
  enterTenant,
  logOut,
  onLoginSubmit,
  showLogin,
} from "./session.js";
import { live } from "./live.js";
import { renderOperators, tickWaitTimes } from "./lists.js";
import { closeConversationView, openConversation } from "./conversation.js";
import { addQuickReply, move, onReplyKey, sendReply, toggleQuickEditor } from "./reply.js";
import { sendPresence, togglePresence } from "./presence.js";
import { applyLanguage, setLanguage } from "./language.js";

function wire() {
  byTestId("login-form").addEventListener("submit", onLoginSubmit);
  ["lang-switch", "login-lang-switch"].forEach(function (id) {
    byTestId(id).addEventListener("change", function (event) {
      setLanguage(event.target.value);
    });
  });
  byTestId("logout").addEventListener("click", logOut);
  byTestId("tenant-switch").addEventListener("change", function (event) {
    byTestId("tenant-name").textContent = event.target.value;
    closeConversationView();
    enterTenant(event.target.value);
  });
  byTestId("presence-toggle").addEventListener("click", togglePresence);
  document.querySelector(".toast-close").addEventListener("click", hideError);
  document.querySelector(".lists").addEventListener("click", function (event) {
    var row = event.target.closest('[data-testid="conversation-row"]');
    if (row) openConversation(row.getAttribute("data-id"));
  });
  byTestId("take").addEventListener("click", function (event) {
    move("take", event.currentTarget);
  });
  byTestId("give-back").addEventListener("click", function (event) {
    move("give-back", event.currentTarget);
  });
  byTestId("close").addEventListener("click", function (event) {
    move("close", event.currentTarget);
  });
  byTestId("reply-form").addEventListener("submit", function (event) {
    event.preventDefault();
    sendReply();
  });
  byTestId("reply-input").addEventListener("keydown", onReplyKey);
  byTestId("quick-edit").addEventListener("click", toggleQuickEditor);
  byTestId("quick-add").addEventListener("click", addQuickReply);
  byTestId("quick-new").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.isComposing) {
      event.preventDefault();
      addQuickReply();
    }
  });
  document.addEventListener("visibilitychange", function () {
    sendPresence();
  });
  window.addEventListener("pagehide", function () {
    // keepalive: the request outlives the page, so closing the tab shows "away" at once.
    if (S.tenant) sendPresence(true);
  });
  window.addEventListener("hashchange", function () {
    var wanted = conversationInHash();
    if (wanted && S.tenant) openConversation(wanted);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !byTestId("error").hidden) hideError();
  });
  setInterval(tickWaitTimes, 1000);
  // Operators who stopped sending heartbeats drop off the list without an event.
  setInterval(renderOperators, PRESENCE_EVERY_MS / 2);
}

/** For tests and the curious: what the console holds, and a way to cut the feed. */
window.loaConsole = {
  /** Drops the live feed as a network failure would; it reconnects and catches up. */
  dropFeed: function () {
    if (live.controller) live.controller.abort();
  },
  state: function () {
    return {
      lang: lang,
      tenant: S.tenant,
      user_id: userId(),
      live: live.connected,
      sessions: live.sessions,
      last_event_id: live.lastEventId,
      conversations: S.conversations.size,
      open: S.view ? S.view.id : null,
      shown: S.view ? S.view.messages.size : 0
    };
  }
};

wire();
applyLanguage();
if (sessionStorage.getItem(KEY.access)) {
  enterConsole();
} else {
  showLogin("");
}
