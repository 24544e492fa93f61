// The tenant's live feed: server-sent events read with fetch (EventSource cannot send the
// token), reconnecting with backoff and catching up through a resync.

import { BACKOFF_MS, KEY, STREAM_SILENCE_MS } from "./constants.js";
import { t } from "./strings.js";
import { byTestId, sleep } from "./dom.js";
import { S } from "./state.js";
import { ApiError, api, describe, refreshTokens, showError, tenantPath } from "./api.js";
import { applyConversation, applyMessage, applyPresence } from "./events.js";
import { scheduleRender } from "./lists.js";
import { catchUp } from "./conversation.js";

export var live = { generation: 0, controller: null, attempt: 0, lastEventId: null, connected: false, sessions: 0, silence: null };

export function startLive() {
  stopLive();
  live.lastEventId = null;
  live.attempt = 0;
  var generation = ++live.generation;
  // Until the feed says `ready`, show what the store has.
  resync();
  runLive(generation);
}

export function stopLive() {
  live.generation++;
  if (live.controller) live.controller.abort();
  live.controller = null;
  clearTimeout(live.silence);
  setLiveStatus(false);
}

/** Reads the feed until it ends or this generation is stopped; reconnects with backoff. */
async function runLive(generation) {
  while (generation === live.generation) {
    var controller = new AbortController();
    live.controller = controller;
    try {
      await readFeed(generation, controller);
    } catch (error) {
      if (error && error.name !== "AbortError" && !(error instanceof ApiError && error.status === 401)) {
        console.warn("loa console: live feed interrupted:", error.message || error);
      }
    }
    clearTimeout(live.silence);
    if (generation !== live.generation) return;
    setLiveStatus(false);
    var delay = BACKOFF_MS[Math.min(live.attempt, BACKOFF_MS.length - 1)];
    live.attempt++;
    await sleep(delay);
  }
}

async function readFeed(generation, controller) {
  var response = await openFeed(controller, true);
  var reader = response.body.getReader();
  var decoder = new TextDecoder();
  var parse = sseParser(function (event) {
    if (generation === live.generation) onLiveEvent(event);
  });
  watchSilence(controller);
  for (;;) {
    var chunk = await reader.read();
    if (chunk.done) return;
    watchSilence(controller);
    parse(decoder.decode(chunk.value, { stream: true }));
  }
}

async function openFeed(controller, mayRefresh) {
  var token = sessionStorage.getItem(KEY.access);
  var headers = { Accept: "text/event-stream", Authorization: "Bearer " + token };
  if (live.lastEventId !== null) headers["Last-Event-ID"] = live.lastEventId;
  var response = await fetch(tenantPath("/live"), {
    headers: headers,
    cache: "no-store",
    signal: controller.signal
  });
  if (response.status === 401 && mayRefresh) {
    await refreshTokens(token);
    return openFeed(controller, false);
  }
  if (!response.ok || !response.body) throw new Error("GET …/live answered " + response.status);
  return response;
}

/** Aborts the feed when nothing, not even a keep-alive, arrived for a while. */
function watchSilence(controller) {
  clearTimeout(live.silence);
  live.silence = setTimeout(function () {
    controller.abort();
  }, STREAM_SILENCE_MS);
}

/**
 * A server-sent events parser (the WHATWG rules that matter here): `feed(text)` takes
 * chunks as they come, and calls `onEvent({event, data, id})` at each blank line.
 * Comments (`: keep-alive`) only prove the connection is alive.
 */
function sseParser(onEvent) {
  var pending = "";
  var data = [];
  var type = "";
  var id = null;
  return function feed(text) {
    pending += text;
    var lines = pending.split("\n");
    pending = lines.pop();
    lines.forEach(function (line) {
      if (line.charAt(line.length - 1) === "\r") line = line.slice(0, -1);
      if (line === "") {
        if (data.length) onEvent({ event: type || "message", data: data.join("\n"), id: id });
        else if (id !== null) onEvent({ event: "", data: "", id: id });
        data = [];
        type = "";
        id = null;
        return;
      }
      if (line.charAt(0) === ":") return;
      var colon = line.indexOf(":");
      var field = colon < 0 ? line : line.slice(0, colon);
      var value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.charAt(0) === " ") value = value.slice(1);
      if (field === "data") data.push(value);
      else if (field === "event") type = value;
      else if (field === "id" && value.indexOf("\0") < 0) id = value;
    });
  };
}

function onLiveEvent(event) {
  if (event.id !== null && event.id !== undefined) live.lastEventId = event.id;
  if (!event.data) return;
  var data;
  try {
    data = JSON.parse(event.data);
  } catch (error) {
    console.warn("loa console: a live event that is not JSON:", event.event);
    return;
  }
  if (event.event === "ready") {
    live.sessions++;
    live.attempt = 0;
    if (typeof data.now_ms === "number") S.skew = data.now_ms - Date.now();
    setLiveStatus(true);
    // What happened while the feed was down (or before it first opened) is in the
    // store: reload it, the feed carries on from here.
    resync();
    return;
  }
  if (S.replay) S.replay.push({ type: event.event, data: data });
  applyEvent(event.event, data);
}

function applyEvent(type, data) {
  if (type === "conversation") applyConversation(data);
  else if (type === "message") applyMessage(data);
  else if (type === "presence") applyPresence(data);
}

export function setLiveStatus(connected) {
  live.connected = connected;
  var badge = byTestId("live-status");
  badge.setAttribute("data-live", connected ? "true" : "false");
  badge.textContent = t(connected ? "live_on" : "live_off");
}

/**
 * Reloads the inbox (and the open conversation's new messages) from the store, then
 * applies again the events that arrived meanwhile: applying is idempotent, so what the
 * inbox already holds does not count twice.
 */
async function resync() {
  if (S.replay) {
    S.resyncAgain = true;
    return;
  }
  var state = S;
  state.replay = [];
  try {
    await loadInbox(state);
    if (state !== S) return;
    state.replay.forEach(function (event) {
      applyEvent(event.type, event.data);
    });
    if (S.view) await catchUp(S.view);
  } catch (error) {
    if (error.status !== 401 && state === S) showError(describe(error));
  } finally {
    state.replay = null;
    if (state.resyncAgain && state === S) {
      state.resyncAgain = false;
      resync();
    }
  }
}

async function loadInbox(state) {
  var data = (await api("GET", tenantPath("/inbox"))).data;
  if (state !== S) return;
  if (typeof data.now_ms === "number") S.skew = data.now_ms - Date.now();
  var conversations = new Map();
  (data.conversations || []).forEach(function (item) {
    var id = item.conversation.id;
    var entry = {
      conversation: item.conversation,
      contact: item.contact || null,
      last_message: item.last_message || null,
      unread: item.unread || 0
    };
    var seen = S.readUpTo.get(id);
    if (S.view && S.view.id === id) entry.unread = 0;
    else if (seen !== undefined && entry.last_message && entry.last_message.id <= seen) entry.unread = 0;
    conversations.set(id, entry);
  });
  S.conversations = conversations;
  S.operators = new Map(
    (data.operators || []).map(function (operator) {
      return [operator.user_id, operator];
    })
  );
  scheduleRender();
}
