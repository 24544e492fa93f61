// The operator's presence: the online/away toggle and the heartbeat the server counts.

import { KEY, PRESENCE_EVERY_MS } from "./constants.js";
import { t } from "./strings.js";
import { byTestId, readLocal, writeLocal } from "./dom.js";
import { S, canAnswer, now, userId } from "./state.js";
import { api, tenantPath } from "./api.js";
import { scheduleRender } from "./lists.js";

var presence = { timer: null };

/** What the operator chose with the toggle; a hidden tab counts as away whatever it is. */
function chosenStatus() {
  return readLocal(KEY.away) === "1" ? "away" : "online";
}

function currentStatus() {
  return document.visibilityState === "hidden" ? "away" : chosenStatus();
}

export function startPresence() {
  stopPresence();
  sendPresence();
  presence.timer = setInterval(function () {
    if (document.visibilityState === "visible") sendPresence();
  }, PRESENCE_EVERY_MS);
}

export function stopPresence() {
  clearInterval(presence.timer);
  presence.timer = null;
}

export function sendPresence(keepalive) {
  // Viewers only watch: the server takes presence from those who answer.
  if (!S.tenant || !canAnswer()) return;
  var status = currentStatus();
  var me = userId();
  var known = S.operators.get(me);
  if (known) {
    known.status = status;
    known.updated_at_ms = now();
    scheduleRender();
  }
  api("PUT", tenantPath("/presence"), { body: { status: status }, keepalive: !!keepalive }).catch(function (error) {
    if (error.status !== 401) console.warn("loa console: presence not sent:", error.message);
  });
}

export function renderPresence() {
  var toggle = byTestId("presence-toggle");
  toggle.hidden = !!S.tenant && !canAnswer();
  var status = chosenStatus();
  toggle.setAttribute("aria-pressed", status === "online" ? "true" : "false");
  toggle.setAttribute("data-status", status);
  toggle.setAttribute("title", t(status === "online" ? "set_away" : "set_online"));
  toggle.querySelector(".presence-text").textContent = t(status);
}

export function togglePresence() {
  writeLocal(KEY.away, chosenStatus() === "online" ? "1" : null);
  renderPresence();
  sendPresence();
}
