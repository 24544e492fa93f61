// Login, logout and entering a shop: who the operator is, which shop, then the console.

import { KEY } from "./constants.js";
import { t } from "./strings.js";
import { byTestId, el, readLocal, writeLocal } from "./dom.js";
import { S, resetState } from "./state.js";
import { api, clearTokens, describe, saveTokens, tenantPath } from "./api.js";
import { startLive, stopLive } from "./live.js";
import { renderAll, scheduleRender } from "./lists.js";
import { closeConversationView, openConversation, renderViewHead } from "./conversation.js";
import { renderDetails } from "./details.js";
import { startPresence, stopPresence } from "./presence.js";

export function showLogin(message) {
  document.getElementById("app").hidden = true;
  document.getElementById("login").hidden = false;
  var error = byTestId("login-error");
  error.textContent = message || "";
  error.hidden = !message;
  var email = byTestId("login-email");
  (email.value ? byTestId("login-password") : email).focus();
}

export async function onLoginSubmit(event) {
  event.preventDefault();
  var email = byTestId("login-email").value.trim();
  var password = byTestId("login-password").value;
  var error = byTestId("login-error");
  if (!email || !password) {
    error.textContent = t("fill_login");
    error.hidden = false;
    return;
  }
  var submit = byTestId("login-submit");
  submit.disabled = true;
  submit.textContent = t("logging_in");
  try {
    var answer = await api("POST", "/v1/auth/login", {
      body: { email: email, password: password },
      noRefresh: true
    });
    saveTokens(answer.data);
    byTestId("login-password").value = "";
    error.hidden = true;
    await enterConsole();
  } catch (failure) {
    var text;
    if (failure.status === 401 || failure.status === 400) text = t("bad_credentials");
    else if (failure.status === 429) text = t("too_many");
    else text = describe(failure);
    error.textContent = text;
    error.hidden = false;
    byTestId("login-password").select();
  } finally {
    submit.disabled = false;
    submit.textContent = t("log_in");
  }
}

/** The tokens stopped working (logged out elsewhere, password changed, expired). */
export function sessionEnded() {
  if (!S.tenant && !sessionStorage.getItem(KEY.access)) return;
  leaveTenant();
  clearTokens();
  resetState();
  showLogin(t("session_expired"));
}

export async function logOut() {
  var refreshToken = sessionStorage.getItem(KEY.refresh);
  if (S.tenant) {
    await api("PUT", tenantPath("/presence"), { body: { status: "away" }, noRefresh: true }).catch(function () {});
  }
  leaveTenant();
  clearTokens();
  resetState();
  if (refreshToken) {
    fetch("/v1/auth/logout", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: refreshToken })
    }).catch(function () {});
  }
  showLogin("");
}

// ---------------------------------------------------------------- tenant start

/** After a login or a reload with tokens: who am I, which shop, then the console. */
export async function enterConsole() {
  var me;
  try {
    me = (await api("GET", "/v1/me")).data;
  } catch (error) {
    if (error.status === 401) return;
    showLogin(describe(error));
    return;
  }
  var tenants = (me.tenants || []).filter(function (entry) {
    return entry.role;
  });
  if (!tenants.length) {
    clearTokens();
    showLogin(t("no_tenant"));
    return;
  }
  S.me = me;
  document.getElementById("login").hidden = true;
  document.getElementById("app").hidden = false;
  byTestId("me").textContent = me.display_name || me.email || me.id;
  var saved = readLocal(KEY.tenant);
  var chosen = tenants.some(function (entry) {
    return entry.tenant_id === saved;
  })
    ? saved
    : tenants[0].tenant_id;
  var select = byTestId("tenant-switch");
  select.textContent = "";
  tenants.forEach(function (entry) {
    select.appendChild(el("option", { value: entry.tenant_id, text: entry.tenant_id }));
  });
  select.value = chosen;
  select.parentElement.hidden = tenants.length < 2;
  byTestId("tenant-name").hidden = tenants.length > 1;
  byTestId("tenant-name").textContent = chosen;
  enterTenant(chosen, tenants, conversationInHash());
}

/** Starts the console on one shop; `wanted` is a conversation to open (from the URL). */
export function enterTenant(tenantId, tenants, wanted) {
  leaveTenant();
  var me = S.me;
  resetState();
  S.me = me;
  S.tenant = tenantId;
  S.role = ((tenants || me.tenants).find(function (entry) {
    return entry.tenant_id === tenantId;
  }) || {}).role;
  writeLocal(KEY.tenant, tenantId);
  renderAll();
  loadMembers(S);
  startLive();
  startPresence();
  if (wanted) openConversation(wanted);
}

/** The shop's members' names; without them a holder who is not present shows by id. */
async function loadMembers(state) {
  try {
    var data = (await api("GET", tenantPath("/members"))).data;
    if (state !== S) return;
    (data.members || []).forEach(function (member) {
      S.members.set(member.user_id, member.display_name || member.email);
    });
    scheduleRender();
    renderViewHead();
    renderDetails();
  } catch (error) {
    if (error.status !== 401) console.warn("loa console: member names not loaded:", error.message);
  }
}

function leaveTenant() {
  stopLive();
  stopPresence();
  closeConversationView();
}

export function conversationInHash() {
  var match = /^#c=([\w.-]+)$/.exec(location.hash);
  return match ? match[1] : null;
}
