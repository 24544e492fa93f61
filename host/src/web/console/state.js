// Everything the page knows about the operator and the shop, reset on logout or a change of shop.

import { KEY } from "./constants.js";

/** Everything the page knows; reset when the operator logs out or changes shop. */
export var S = freshState();

function freshState() {
  return {
    me: null,
    role: null,
    tenant: null,
    // Server clock minus ours, so wait times match the server's timestamps.
    skew: 0,
    // id -> {conversation, contact, last_message, unread}: every open conversation.
    conversations: new Map(),
    // Conversations known to be closed: a late event must not bring them back.
    closed: new Set(),
    // id -> the newest message id the operator has seen on screen.
    readUpTo: new Map(),
    // Conversations being fetched because an event named one we did not know.
    fetching: new Set(),
    // user id -> {user_id, display_name, status, updated_at_ms}.
    operators: new Map(),
    // user id -> display name of every member: names holders who are not present.
    members: new Map(),
    // The conversation on screen, see openConversation.
    view: null,
    // Events received while the inbox reloads, applied again on top of it.
    replay: null,
    resyncAgain: false
  };
}

export function now() {
  return Date.now() + S.skew;
}

export function userId() {
  return S.me ? S.me.id : sessionStorage.getItem(KEY.user);
}

export function canAnswer() {
  return S.role === "owner" || S.role === "admin" || S.role === "operator";
}

/** Forgets everything of the last operator or shop (logout, a change of shop). */
export function resetState() {
  S = freshState();
}
