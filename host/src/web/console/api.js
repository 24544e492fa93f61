// Calls to the admin API with the bearer token (refreshed once on a 401), and how a failed
// call is told to the operator.

import { ERROR_SHOWN_MS, KEY } from "./constants.js";
import { STRINGS, lang, t } from "./strings.js";
import { byTestId } from "./dom.js";
import { S } from "./state.js";
import { sessionEnded } from "./session.js";
import { operatorName } from "./lists.js";

/** A refused call: HTTP status (0 for no answer) and the API's error code and message. */
export function ApiError(status, code, message) {
  this.status = status;
  this.code = code;
  this.message = message;
}

export function tenantPath(rest) {
  return "/v1/tenants/" + encodeURIComponent(S.tenant) + rest;
}

export function conversationPath(id, rest) {
  return tenantPath("/conversations/" + encodeURIComponent(id) + (rest || ""));
}

/**
 * `method path` with the access token and an optional JSON body; resolves to
 * `{status, data}` or rejects with an ApiError. A 401 trades the refresh token for new
 * tokens once and repeats the call; when that fails too, the login form comes back.
 */
export async function api(method, path, options) {
  options = options || {};
  for (var attempt = 0; ; attempt++) {
    var token = sessionStorage.getItem(KEY.access);
    var headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    if (token) headers.Authorization = "Bearer " + token;
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    var response;
    try {
      response = await fetch(path, {
        method: method,
        headers: headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        cache: "no-store",
        keepalive: !!options.keepalive
      });
    } catch (error) {
      throw new ApiError(0, "network", t("err_network"));
    }
    if (response.status === 401 && attempt === 0 && !options.noRefresh) {
      await refreshTokens(token);
      continue;
    }
    var data = null;
    var text = await response.text().catch(function () {
      return "";
    });
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (error) {
        data = null;
      }
    }
    if (response.ok) return { status: response.status, data: data };
    var problem = (data && data.error) || {};
    if (response.status === 401 && !options.noRefresh) sessionEnded();
    throw new ApiError(response.status, problem.code || "http_" + response.status, problem.message || text || response.statusText);
  }
}

// The refresh in flight: a refresh token works once, so concurrent 401s share one trade.
var refreshing = null;

/** New tokens for the ones that got a 401 (`usedToken`); ends the session if refused. */
export function refreshTokens(usedToken) {
  var current = sessionStorage.getItem(KEY.access);
  if (current && current !== usedToken) return Promise.resolve();
  if (refreshing) return refreshing;
  var refreshToken = sessionStorage.getItem(KEY.refresh);
  if (!refreshToken) {
    sessionEnded();
    return Promise.reject(new ApiError(401, "unauthorized", t("session_expired")));
  }
  refreshing = fetch("/v1/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ refresh_token: refreshToken }),
    cache: "no-store"
  })
    .then(
      function (response) {
        if (response.ok) return response.json().then(saveTokens);
        if (response.status === 401) {
          sessionEnded();
          throw new ApiError(401, "unauthorized", t("session_expired"));
        }
        throw new ApiError(response.status, "refresh_failed", t("err_other", { message: response.status }));
      },
      function () {
        throw new ApiError(0, "network", t("err_network"));
      }
    )
    .finally(function () {
      refreshing = null;
    });
  return refreshing;
}

export function saveTokens(body) {
  sessionStorage.setItem(KEY.access, body.access_token);
  sessionStorage.setItem(KEY.refresh, body.refresh_token);
  if (body.user_id) sessionStorage.setItem(KEY.user, body.user_id);
}

export function clearTokens() {
  [KEY.access, KEY.refresh, KEY.user].forEach(function (key) {
    sessionStorage.removeItem(key);
  });
}

/** The operator-facing text of a failed call. */
export function describe(error, conversation) {
  if (!(error instanceof ApiError)) return t("err_other", { message: String(error && error.message) });
  var holder = conversation && conversation.assigned_to ? operatorName(conversation.assigned_to) : t("nobody");
  var key = "err_" + error.code;
  if (STRINGS[lang][key]) return t(key, { name: holder, message: error.message });
  return t("err_other", { message: error.message });
}

// ---------------------------------------------------------------- errors on screen

var errorTimer = null;

export function showError(text) {
  var toast = byTestId("error");
  toast.querySelector(".toast-text").textContent = text;
  toast.hidden = false;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(hideError, ERROR_SHOWN_MS);
}

export function hideError() {
  byTestId("error").hidden = true;
}
