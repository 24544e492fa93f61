// Applies what the feed reports (conversations, messages, presence) to the page's state.

import { S } from "./state.js";
import { api, conversationPath } from "./api.js";
import { scheduleRender } from "./lists.js";
import { addMessages, renderViewHead, scheduleDetails } from "./conversation.js";

/** A conversation as it is now (changed hands, closed, or a resume snapshot). */
export function applyConversation(conversation) {
  var id = conversation.id;
  var entry = S.conversations.get(id);
  if (conversation.state === "closed") {
    S.closed.add(id);
    S.conversations.delete(id);
  } else if (!S.closed.has(id)) {
    if (entry) {
      // An older snapshot (replayed after a reload) must not undo a newer change.
      if (conversation.state_changed_at_ms >= entry.conversation.state_changed_at_ms) {
        var activity = Math.max(entry.conversation.last_activity_ms, conversation.last_activity_ms);
        entry.conversation = conversation;
        entry.conversation.last_activity_ms = activity;
        if (conversation.state === "bot") entry.unread = 0;
      }
    } else {
      S.conversations.set(id, { conversation: conversation, contact: null, last_message: null, unread: 0 });
      fetchConversation(id);
    }
  }
  var view = S.view;
  var newer = view && (!view.conversation || conversation.state_changed_at_ms >= view.conversation.state_changed_at_ms);
  if (view && view.id === id && newer) {
    view.conversation = conversation;
    renderViewHead();
    scheduleDetails(view);
  }
  scheduleRender();
}

/** A message stored in one of the tenant's conversations. */
export function applyMessage(message) {
  var id = message.conversation_id;
  var entry = S.conversations.get(id);
  var onScreen = S.view && S.view.id === id;
  if (entry) {
    if (!entry.last_message || message.id > entry.last_message.id) {
      entry.last_message = message;
      entry.conversation.last_activity_ms = Math.max(entry.conversation.last_activity_ms, message.created_at_ms);
      entry.unread = unreadAfter(entry, message, onScreen);
    }
  } else if (!S.closed.has(id)) {
    fetchConversation(id, message);
  }
  if (onScreen) {
    S.readUpTo.set(id, Math.max(S.readUpTo.get(id) || 0, message.id));
    addMessages(S.view, [message]);
    scheduleDetails(S.view);
  }
  scheduleRender();
}

/**
 * The unread count after `message`, as the inbox counts it: the customer's messages no
 * person has answered, none while the bot holds the conversation, and none on screen.
 */
function unreadAfter(entry, message, onScreen) {
  if (onScreen || entry.conversation.state === "bot") return 0;
  if (message.direction === "inbound") return entry.unread + 1;
  return message.sender && message.sender.kind === "operator" ? 0 : entry.unread;
}

export function applyPresence(operator) {
  S.operators.set(operator.user_id, operator);
  scheduleRender();
}

/** Adds a conversation an event named before the inbox knew it (a new customer). */
async function fetchConversation(id, firstMessage) {
  if (S.fetching.has(id)) return;
  S.fetching.add(id);
  var state = S;
  try {
    var data = (await api("GET", conversationPath(id))).data;
    if (state !== S || S.closed.has(id) || data.conversation.state === "closed") return;
    var entry = S.conversations.get(id);
    if (!entry) {
      entry = { conversation: data.conversation, contact: null, last_message: null, unread: 0 };
      S.conversations.set(id, entry);
    }
    entry.contact = data.contact || entry.contact;
    if (firstMessage && (!entry.last_message || firstMessage.id > entry.last_message.id)) {
      entry.last_message = firstMessage;
      entry.unread = unreadAfter(entry, firstMessage, S.view && S.view.id === id);
    }
    scheduleRender();
  } catch (error) {
    if (error.status !== 401) console.warn("loa console: cannot load conversation", id, error.message);
  } finally {
    state.fetching.delete(id);
  }
}
