// Switching between Vietnamese and English: every static text and everything drawn is redone.

import { KEY } from "./constants.js";
import { lang, switchLanguage, t } from "./strings.js";
import { byTestId, writeLocal } from "./dom.js";
import { S } from "./state.js";
import { live, setLiveStatus } from "./live.js";
import { renderLists, renderOperators } from "./lists.js";
import { renderMessages, renderViewHead } from "./conversation.js";
import { renderDetails } from "./details.js";
import { renderQuickReplies } from "./reply.js";
import { renderPresence } from "./presence.js";

/** Fills every static text from the table and redraws what the script wrote. */
export function applyLanguage() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach(function (node) {
    node.textContent = t(node.getAttribute("data-i18n"));
  });
  document.querySelectorAll("[data-i18n-placeholder]").forEach(function (node) {
    node.setAttribute("placeholder", t(node.getAttribute("data-i18n-placeholder")));
  });
  document.querySelectorAll("[data-i18n-aria-label]").forEach(function (node) {
    node.setAttribute("aria-label", t(node.getAttribute("data-i18n-aria-label")));
  });
  ["lang-switch", "login-lang-switch"].forEach(function (id) {
    byTestId(id).value = lang;
  });
  var editor = byTestId("quick-editor");
  byTestId("quick-edit").textContent = t(editor.hidden ? "edit" : "done");
  renderPresence();
  setLiveStatus(live.connected);
  renderLists();
  renderOperators();
  if (S.view) {
    renderViewHead();
    renderMessages();
    renderDetails();
    renderQuickReplies();
  }
}

export function setLanguage(wanted) {
  switchLanguage(wanted);
  writeLocal(KEY.lang, lang);
  applyLanguage();
}
