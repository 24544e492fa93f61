/*! loa chat widget: one script tag, no build step, no dependencies.
 * Protocol: host/src/web/widget-protocol.md. Every server-provided string is rendered
 * with textContent / attributes, never as HTML.
 *
 * <script src="https://HOST/widget.js" data-bot="may" data-color="#e91e63"
 *         data-title="Thời Trang Mây" data-position="right" data-lang="vi"></script>
 */
(function () {
  "use strict";

  // currentScript is null only where this runs late (a module, an injected copy): then the
  // first tag that loads a widget.js with a data-bot is ours.
  var script = document.currentScript || document.querySelector('script[data-bot][src*="widget.js"]');
  if (!script || !script.getAttribute("data-bot")) {
    warn("the widget's script tag needs a data-bot attribute");
    return;
  }

  // ---------------------------------------------------------------- configuration

  var data = script.dataset;
  var botId = data.bot;
  var origin = new URL(script.src, location.href).origin;
  var botPath = "/v1/widget/" + encodeURIComponent(botId);
  var socketUrl = origin.replace(/^http/, "ws") + botPath + "/ws";
  var lang = pickLanguage(data.lang);
  var position = data.position === "left" ? "left" : "right";
  var color = validColor(data.color) || "#2563eb";
  var identity =
    data.userId && data.userSignature
      ? { id: data.userId, name: data.userName || null, signature: data.userSignature }
      : null;

  // Reconnect backoff: 0.5 s doubling up to 30 s (the protocol's numbers).
  var BACKOFF_FIRST_MS = 500;
  var BACKOFF_MAX_MS = 30000;
  // Heartbeat: a ping every 25 s keeps proxies from closing an idle socket (many cut at
  // 30-60 s); no frame within 10 s after it means the socket is dead without a close.
  var PING_EVERY_MS = 25000;
  var PONG_WITHIN_MS = 10000;
  // The visitor's "typing" stops 3 s after the last keystroke, like most chat apps.
  var TYPING_IDLE_MS = 3000;
  // A lost "typing off" must not leave the dots on for ever.
  var TYPING_SHOWN_MAX_MS = 30000;
  var ERROR_SHOWN_MS = 8000;

  var STRINGS = {
    vi: {
      open: "Mở cửa sổ chat",
      close: "Đóng cửa sổ chat",
      placeholder: "Nhập tin nhắn…",
      send: "Gửi",
      messages: "Tin nhắn",
      connecting: "Đang kết nối…",
      reconnecting: "Đang kết nối lại…",
      typing: "Đang soạn tin…",
      sending: "Đang gửi…",
      you: "Bạn",
      bot: "Trợ lý",
      operator: "Nhân viên",
      system: "Thông báo",
      unread: "tin nhắn mới",
      quickReplies: "Gợi ý trả lời",
      dismiss: "Ẩn thông báo",
      attachment: "Tệp đính kèm",
      text_too_long: "Tin nhắn dài quá (tối đa {n} ký tự). Bạn rút gọn giúp nhé.",
      rate_limited: "Bạn gửi hơi nhanh, vui lòng thử lại sau {s} giây.",
      empty_message: "Tin nhắn đang trống.",
      invalid_identity: "Không xác minh được tài khoản, bạn đang chat ẩn danh.",
      failed: "Chưa gửi được tin nhắn, bạn vui lòng thử lại.",
    },
    en: {
      open: "Open chat",
      close: "Close chat",
      placeholder: "Type a message…",
      send: "Send",
      messages: "Messages",
      connecting: "Connecting…",
      reconnecting: "Reconnecting…",
      typing: "Typing…",
      sending: "Sending…",
      you: "You",
      bot: "Assistant",
      operator: "Staff",
      system: "Notice",
      unread: "new messages",
      quickReplies: "Suggested replies",
      dismiss: "Dismiss",
      attachment: "Attachment",
      text_too_long: "Message too long (at most {n} characters). Please shorten it.",
      rate_limited: "You are sending too fast, please try again in {s} s.",
      empty_message: "The message is empty.",
      invalid_identity: "Your account could not be verified; you are chatting anonymously.",
      failed: "The message could not be sent, please try again.",
    },
  };
  var text = STRINGS[lang];

  // ---------------------------------------------------------------- state

  var title = data.title || "Chat";
  var welcome = "";
  var maxTextChars = 4000;
  var visitorId = load("visitor_id");
  // Highest id seen in an earlier page view: messages above it count as unread.
  var seenBefore = Number(load("last_seen_id")) || 0;

  var socket = null;
  var connected = false; // true between `ready` and the socket's end
  var everReady = false;
  var sessions = 0; // `ready` frames received: 1 + the number of successful reconnects
  var attempt = 0;
  var reconnectTimer = null;
  var pingTimer = null;
  var pongDeadline = null;
  var stopped = false;

  var shownIds = {}; // id -> true for every message on screen
  var shownCount = 0;
  var highestShown = 0;
  var pending = {}; // client_id -> {entry, element, acked}
  var outbox = []; // entries not acknowledged yet, oldest first: resent after a reconnect
  var isOpen = false;
  var unread = 0;
  var typingSent = false;
  var typingIdleTimer = null;
  var typingShownTimer = null;
  var errorTimer = null;

  // ---------------------------------------------------------------- DOM

  var host = document.createElement("loa-widget");
  host.id = "loa-widget";
  host.setAttribute("data-bot", botId);
  host.style.cssText = "all:initial";
  var shadow = host.attachShadow({ mode: "open" });

  var style = document.createElement("style");
  style.textContent = css();
  shadow.appendChild(style);

  var root = el("div", "loa-root loa-" + position);
  root.style.setProperty("--c", color);
  root.style.setProperty("--fg", readableOn(color));
  shadow.appendChild(root);

  var panelId = "loa-panel";
  var panel = el("div", "loa-panel", { id: panelId, role: "dialog", "data-testid": "loa-panel" });
  panel.hidden = true;
  var header = el("div", "loa-header");
  var titleEl = el("h2", "loa-title", { id: "loa-title" });
  titleEl.textContent = title;
  panel.setAttribute("aria-labelledby", "loa-title");
  var closeButton = el("button", "loa-icon-btn", {
    type: "button",
    "aria-label": text.close,
    "data-testid": "loa-close",
  });
  closeButton.textContent = "×";
  header.appendChild(titleEl);
  header.appendChild(closeButton);

  var status = el("div", "loa-status", { role: "status", "data-testid": "loa-status" });
  status.hidden = true;

  var list = el("div", "loa-list", {
    role: "log",
    "aria-live": "polite",
    "aria-label": text.messages,
    tabindex: "0",
    "data-testid": "loa-messages",
  });
  var welcomeEl = el("div", "loa-msg loa-bot loa-welcome", {
    "data-testid": "loa-welcome",
    "data-sender": "bot",
  });
  welcomeEl.hidden = true;
  list.appendChild(welcomeEl);

  var typingEl = el("div", "loa-typing", { "data-testid": "loa-typing", "aria-live": "polite" });
  typingEl.hidden = true;
  var dots = el("span", "loa-dots", { "aria-hidden": "true" });
  dots.appendChild(el("i"));
  dots.appendChild(el("i"));
  dots.appendChild(el("i"));
  var typingLabel = el("span", "loa-sr");
  typingLabel.textContent = text.typing;
  typingEl.appendChild(dots);
  typingEl.appendChild(typingLabel);

  var quick = el("div", "loa-quick", { role: "group", "aria-label": text.quickReplies });
  quick.hidden = true;

  var errorBox = el("div", "loa-error", { role: "status", "data-testid": "loa-error" });
  errorBox.hidden = true;
  var errorText = el("span", "loa-error-text");
  var errorClose = el("button", "loa-icon-btn loa-small", {
    type: "button",
    "aria-label": text.dismiss,
  });
  errorClose.textContent = "×";
  errorBox.appendChild(errorText);
  errorBox.appendChild(errorClose);

  var composer = el("form", "loa-composer");
  var input = el("textarea", "loa-input", {
    rows: "1",
    placeholder: text.placeholder,
    "aria-label": text.placeholder,
    "data-testid": "loa-input",
  });
  var counter = el("span", "loa-counter", { "aria-live": "polite" });
  counter.hidden = true;
  var sendButton = el("button", "loa-send", {
    type: "submit",
    "aria-label": text.send,
    "data-testid": "loa-send",
  });
  sendButton.textContent = text.send;
  composer.appendChild(input);
  composer.appendChild(sendButton);

  panel.appendChild(header);
  panel.appendChild(status);
  panel.appendChild(list);
  panel.appendChild(typingEl);
  panel.appendChild(quick);
  panel.appendChild(errorBox);
  panel.appendChild(counter);
  panel.appendChild(composer);

  var launcher = el("button", "loa-launcher", {
    type: "button",
    "aria-label": text.open,
    "aria-expanded": "false",
    "aria-controls": panelId,
    "data-testid": "loa-launcher",
  });
  var svgNs = "http://www.w3.org/2000/svg";
  var icon = document.createElementNS(svgNs, "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("aria-hidden", "true");
  var bubblePath = document.createElementNS(svgNs, "path");
  bubblePath.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  icon.appendChild(bubblePath);
  launcher.appendChild(icon);
  var badge = el("span", "loa-badge", { "data-testid": "loa-unread" });
  badge.hidden = true;
  launcher.appendChild(badge);

  root.appendChild(panel);
  root.appendChild(launcher);

  // ---------------------------------------------------------------- events

  launcher.addEventListener("click", function () {
    if (isOpen) close();
    else open();
  });
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    submitInput();
  });
  input.addEventListener("keydown", function (event) {
    // isComposing / 229: an IME (Vietnamese Telex, VNI…) is still composing a letter.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submitInput();
    }
  });
  input.addEventListener("input", function () {
    growInput();
    updateCounter();
    visitorTyping();
  });
  errorClose.addEventListener("click", hideError);
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") reconnectNow();
  });

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  function mount() {
    document.body.appendChild(host);
    fetchBotSettings();
    // A returning visitor connects at once, so an operator's answer shows as unread;
    // a new one only when they open the chat (no visitor made for every page view).
    if (visitorId) connect();
  }

  window.loaWidget = Object.freeze({
    open: open,
    close: close,
    /** A snapshot for tests and the shop's own scripts; changing it changes nothing. */
    state: function () {
      return {
        bot: botId,
        open: isOpen,
        connected: connected,
        sessions: sessions,
        visitor_id: visitorId,
        last_seen_id: highestShown || null,
        shown: shownCount,
        pending: Object.keys(pending).length,
      };
    },
  });

  // ---------------------------------------------------------------- panel

  function open() {
    if (isOpen) return;
    isOpen = true;
    panel.hidden = false;
    root.classList.add("loa-open");
    launcher.setAttribute("aria-expanded", "true");
    unread = 0;
    renderBadge();
    markSeen();
    connect(); // at once, even in the middle of a backoff wait: someone is looking now
    scrollToEnd();
    input.focus();
  }

  function close() {
    if (!isOpen) return;
    var hadFocus = shadow.activeElement && panel.contains(shadow.activeElement);
    isOpen = false;
    panel.hidden = true;
    root.classList.remove("loa-open");
    launcher.setAttribute("aria-expanded", "false");
    if (hadFocus) launcher.focus();
  }

  function fetchBotSettings() {
    if (!window.fetch) return;
    fetch(origin + botPath, { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 404) {
          warn("unknown bot '" + botId + "': the widget stays hidden");
          stopped = true;
          dropSocket();
          host.remove();
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (settings) {
        if (!settings) return;
        if (!data.title && typeof settings.title === "string") {
          titleEl.textContent = title = settings.title;
        }
        if (typeof settings.max_text_chars === "number") maxTextChars = settings.max_text_chars;
        if (!welcome && typeof settings.welcome === "string") setWelcome(settings.welcome);
      })
      .catch(function () {
        // Offline or blocked: the socket's `ready` brings the welcome text anyway.
      });
  }

  // ---------------------------------------------------------------- connection

  function connect() {
    if (stopped || socket) return;
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    showStatus(everReady ? text.reconnecting : text.connecting);
    var ws;
    try {
      ws = new WebSocket(socketUrl);
    } catch (error) {
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.onopen = function () {
      if (ws !== socket) return;
      sendHello();
      startHeartbeat();
    };
    ws.onmessage = function (event) {
      if (ws !== socket) return;
      clearTimeout(pongDeadline);
      pongDeadline = null;
      onFrame(event.data);
    };
    ws.onclose = function () {
      if (ws !== socket) return;
      dropSocket();
      scheduleReconnect();
    };
  }

  /** Forgets the current socket (closing it if it is still open). */
  function dropSocket() {
    var ws = socket;
    socket = null;
    connected = false;
    clearInterval(pingTimer);
    clearTimeout(pongDeadline);
    pingTimer = pongDeadline = null;
    typingSent = false;
    setTyping(false);
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      try {
        ws.close();
      } catch (error) {
        // already closed
      }
    }
  }

  function scheduleReconnect() {
    if (stopped || reconnectTimer) return;
    var ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * Math.pow(2, attempt));
    attempt++;
    // "Equal jitter": half the ceiling, plus a random part of the other half, so many
    // visitors cut off by one restart do not all come back in the same instant.
    var delay = ceiling / 2 + Math.random() * (ceiling / 2);
    showStatus(text.reconnecting);
    reconnectTimer = setTimeout(function () {
      reconnectTimer = null;
      connect();
    }, delay);
  }

  /** Network back or tab visible again: no reason to wait out the backoff. */
  function reconnectNow() {
    if (stopped || socket || !reconnectTimer) return;
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    connect();
  }

  function startHeartbeat() {
    clearInterval(pingTimer);
    pingTimer = setInterval(function () {
      if (!sendFrame({ type: "ping" }) || pongDeadline) return;
      pongDeadline = setTimeout(function () {
        pongDeadline = null;
        dropSocket();
        scheduleReconnect();
      }, PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  function sendHello() {
    sendFrame({
      type: "hello",
      visitor_id: visitorId || null,
      // Within this page: the highest id on screen. A fresh page sends none and gets the
      // latest history, since nothing is on screen yet.
      last_seen_id: highestShown || null,
      lang: lang,
      user: identity,
    });
  }

  function sendFrame(frame) {
    if (!socket || socket.readyState !== 1) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  // ---------------------------------------------------------------- frames

  function onFrame(raw) {
    var frame;
    try {
      frame = JSON.parse(raw);
    } catch (error) {
      return;
    }
    if (!frame || typeof frame !== "object") return;
    switch (frame.type) {
      case "ready":
        onReady(frame);
        break;
      case "message":
        showMessage(frame, true);
        break;
      case "ack":
        onAck(frame.client_id);
        break;
      case "typing":
        setTyping(frame.on === true);
        break;
      case "error":
        onError(frame);
        break;
      default:
        break; // pong, and frame types newer than this script
    }
  }

  function onReady(frame) {
    connected = true;
    everReady = true;
    sessions++;
    attempt = 0;
    hideStatus();
    if (typeof frame.visitor_id === "string" && frame.visitor_id) {
      visitorId = frame.visitor_id;
      save("visitor_id", visitorId);
    }
    if (typeof frame.welcome === "string") setWelcome(frame.welcome);
    var messages = Array.isArray(frame.messages) ? frame.messages.slice() : [];
    messages.sort(function (a, b) {
      return (Number(a && a.id) || 0) - (Number(b && b.id) || 0);
    });
    for (var i = 0; i < messages.length; i++) {
      showMessage(messages[i], Number(messages[i] && messages[i].id) > seenBefore);
    }
    // Messages whose echo came with the history are done; the others go again, with their
    // original client_id, so the server stores each one once.
    var resend = outbox.slice();
    for (var j = 0; j < resend.length; j++) sendFrame(messageFrame(resend[j]));
  }

  function onAck(clientId) {
    var item = pending[clientId];
    if (!item) return;
    item.acked = true;
    item.element.classList.remove("loa-sending");
    removeFromOutbox(clientId);
  }

  function onError(frame) {
    var code = String(frame.code || "internal");
    var item = frame.client_id ? pending[frame.client_id] : null;
    if (item) {
      // Rejected: take the bubble back and give the visitor their text to edit or resend.
      delete pending[frame.client_id];
      removeFromOutbox(frame.client_id);
      item.element.remove();
      if (!input.value) {
        input.value = item.entry.text;
        growInput();
        updateCounter();
      }
      if (isOpen) input.focus();
    }
    // The server goes on anonymously (its `ready` follows); so do later reconnects.
    if (code === "invalid_identity") identity = null;
    var message = errorMessage(code, frame);
    if (message) showError(message);
    else warn("server said " + code + ": " + frame.message);
  }

  function errorMessage(code, frame) {
    if (code === "text_too_long") return text.text_too_long.replace("{n}", maxTextChars);
    if (code === "rate_limited") {
      var seconds = Math.max(1, Math.ceil((Number(frame.retry_after_ms) || 1000) / 1000));
      return text.rate_limited.replace("{s}", seconds);
    }
    if (code === "empty_message" || code === "invalid_identity") return text[code];
    // Protocol slips (not_json, unknown_type, hello_required, bad_frame) are this
    // script's fault: only worth the visitor's attention when a message was lost.
    if (code === "internal" || frame.client_id) return text.failed;
    return null;
  }

  // ---------------------------------------------------------------- messages

  function showMessage(message, countsAsUnread) {
    if (!message || typeof message !== "object") return;
    var id = Number(message.id);
    if (!isFinite(id) || id <= 0 || shownIds[id]) return;
    var clientId = typeof message.client_id === "string" ? message.client_id : null;
    if (clientId && pending[clientId]) {
      // The visitor's own message, now stored: it replaces the pending bubble.
      pending[clientId].element.remove();
      delete pending[clientId];
      removeFromOutbox(clientId);
    }
    var sender = ["contact", "bot", "operator", "system"].indexOf(message.sender) >= 0
      ? message.sender
      : "bot";
    var bubble = renderBubble(sender, message.content || {});
    bubble.setAttribute("data-id", String(id));
    if (clientId) bubble.setAttribute("data-client-id", clientId);
    if (typeof message.created_at_ms === "number") {
      bubble.title = new Date(message.created_at_ms).toLocaleString(lang === "vi" ? "vi-VN" : "en");
    }
    insertById(bubble, id);
    shownIds[id] = true;
    shownCount++;
    if (id > highestShown) highestShown = id;
    if (sender !== "contact") setTyping(false);
    if (isOpen) markSeen();
    else if (countsAsUnread && sender !== "contact") {
      unread++;
      renderBadge();
    }
    renderQuickReplies();
    scrollToEnd();
  }

  /** Keeps the list in id order; pending bubbles (no id yet) stay at the end. */
  function insertById(bubble, id) {
    var before = null;
    for (var node = list.lastElementChild; node && node !== welcomeEl; node = node.previousElementSibling) {
      var nodeId = node.getAttribute("data-id");
      if (nodeId !== null && Number(nodeId) < id) break;
      before = node;
    }
    list.insertBefore(bubble, before);
  }

  function renderBubble(sender, content) {
    var bubble = el("div", "loa-msg loa-" + sender, {
      "data-testid": "loa-message",
      "data-sender": sender,
    });
    var who = el("span", sender === "operator" ? "loa-who" : "loa-who loa-sr");
    who.textContent = text[sender === "contact" ? "you" : sender] + (sender === "operator" ? "" : ": ");
    bubble.appendChild(who);
    if (typeof content.text === "string" && content.text) {
      var body = el("div", "loa-text");
      appendLinkified(body, content.text);
      bubble.appendChild(body);
    }
    each(content.attachments, function (attachment) {
      var node = renderAttachment(attachment);
      if (node) bubble.appendChild(node);
    });
    var actions = renderButtons(content.buttons);
    if (actions) bubble.appendChild(actions);
    if (Array.isArray(content.cards) && content.cards.length) {
      var cards = el("div", "loa-cards");
      each(content.cards, function (card) {
        cards.appendChild(renderCard(card));
      });
      bubble.appendChild(cards);
    }
    bubble.quickReplies = Array.isArray(content.quick_replies) ? content.quick_replies : [];
    return bubble;
  }

  /** Text with its web addresses made links; every piece is a text node. */
  function appendLinkified(parent, value) {
    var pattern = /https?:\/\/[^\s<>"]*[^\s<>".,;:!?)\]'"]/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(value))) {
      var href = safeUrl(match[0], ["http:", "https:"]);
      if (!href) continue;
      if (match.index > last) parent.appendChild(document.createTextNode(value.slice(last, match.index)));
      parent.appendChild(link(href, match[0]));
      last = match.index + match[0].length;
    }
    if (last < value.length) parent.appendChild(document.createTextNode(value.slice(last)));
  }

  function renderAttachment(attachment) {
    if (!attachment || typeof attachment.url !== "string") return null;
    var href = safeUrl(attachment.url, ["http:", "https:"]);
    if (!href) return null;
    var name = typeof attachment.name === "string" && attachment.name ? attachment.name : "";
    if (/^image\//.test(String(attachment.mime || ""))) {
      var anchor = link(href, "");
      anchor.className = "loa-image";
      var image = el("img", "", { src: href, alt: name || text.attachment, loading: "lazy" });
      anchor.appendChild(image);
      return anchor;
    }
    var file = link(href, name || text.attachment);
    file.className = "loa-file";
    return file;
  }

  function renderButtons(buttons) {
    if (!Array.isArray(buttons) || !buttons.length) return null;
    var box = el("div", "loa-actions");
    each(buttons, function (button) {
      var node = renderButton(button);
      if (node) box.appendChild(node);
    });
    return box.children.length ? box : null;
  }

  /** postback → a button that sends; open_url → a link; call → a tel: link. */
  function renderButton(button) {
    if (!button || typeof button.title !== "string" || !button.action) return null;
    var action = button.action;
    var node = null;
    if (typeof action.postback === "string") {
      node = el("button", "loa-action", { type: "button", "data-testid": "loa-button" });
      node.textContent = button.title;
      node.addEventListener("click", function () {
        sendMessage(button.title, action.postback);
      });
    } else if (typeof action.open_url === "string") {
      var href = safeUrl(action.open_url, ["http:", "https:"]);
      if (href) node = link(href, button.title);
    } else if (typeof action.call === "string") {
      var number = action.call.replace(/[^0-9+*#]/g, "");
      if (number) node = link("tel:" + number, button.title);
    }
    if (node && node.tagName === "A") {
      node.className = "loa-action";
      node.setAttribute("data-testid", "loa-button");
    }
    return node;
  }

  function renderCard(card) {
    var box = el("div", "loa-card", { "data-testid": "loa-card" });
    card = card || {};
    var image = typeof card.image_url === "string" ? safeUrl(card.image_url, ["http:", "https:"]) : null;
    if (image) box.appendChild(el("img", "", { src: image, alt: "", loading: "lazy" }));
    var body = el("div", "loa-card-body");
    if (typeof card.title === "string") {
      var heading = el("div", "loa-card-title");
      heading.textContent = card.title;
      body.appendChild(heading);
    }
    if (typeof card.subtitle === "string" && card.subtitle) {
      var subtitle = el("div", "loa-card-subtitle");
      subtitle.textContent = card.subtitle;
      body.appendChild(subtitle);
    }
    var actions = renderButtons(card.buttons);
    if (actions) body.appendChild(actions);
    box.appendChild(body);
    return box;
  }

  /** Chips under the newest message when it offers quick replies; gone once answered. */
  function renderQuickReplies() {
    quick.textContent = "";
    var last = list.lastElementChild;
    var replies = last && last !== welcomeEl && last.getAttribute("data-sender") !== "contact"
      ? last.quickReplies || []
      : [];
    each(replies, function (reply) {
      if (!reply || typeof reply.title !== "string") return;
      var chip = el("button", "loa-chip", { type: "button", "data-testid": "loa-quick-reply" });
      chip.textContent = reply.title;
      chip.addEventListener("click", function () {
        sendMessage(reply.title, typeof reply.payload === "string" ? reply.payload : null);
        input.focus();
      });
      quick.appendChild(chip);
    });
    quick.hidden = !quick.children.length;
  }

  function setWelcome(value) {
    welcome = value;
    welcomeEl.textContent = "";
    if (value) {
      var body = el("div", "loa-text");
      appendLinkified(body, value);
      welcomeEl.appendChild(body);
    }
    welcomeEl.hidden = !value;
  }

  // ---------------------------------------------------------------- sending

  function submitInput() {
    var value = input.value;
    if (!value.trim()) return;
    input.value = "";
    growInput();
    updateCounter();
    hideError();
    sendMessage(value, null);
  }

  function sendMessage(value, payload) {
    var entry = {
      client_id: newClientId(),
      text: value,
      payload: payload == null ? null : String(payload),
    };
    var bubble = renderBubble("contact", { text: value });
    bubble.classList.add("loa-pending", "loa-sending");
    bubble.setAttribute("data-client-id", entry.client_id);
    var note = el("span", "loa-sr");
    note.textContent = text.sending;
    bubble.appendChild(note);
    list.appendChild(bubble);
    pending[entry.client_id] = { entry: entry, element: bubble, acked: false };
    outbox.push(entry);
    renderQuickReplies();
    scrollToEnd(true);
    stopVisitorTyping();
    if (connected) sendFrame(messageFrame(entry));
    else connect(); // no-op while a socket is open; skips the backoff wait otherwise
  }

  function messageFrame(entry) {
    return { type: "message", client_id: entry.client_id, text: entry.text, payload: entry.payload };
  }

  function removeFromOutbox(clientId) {
    for (var i = 0; i < outbox.length; i++) {
      if (outbox[i].client_id === clientId) {
        outbox.splice(i, 1);
        return;
      }
    }
  }

  function visitorTyping() {
    if (!connected) return;
    if (!typingSent && input.value) typingSent = sendFrame({ type: "typing", on: true });
    clearTimeout(typingIdleTimer);
    typingIdleTimer = setTimeout(stopVisitorTyping, TYPING_IDLE_MS);
  }

  function stopVisitorTyping() {
    clearTimeout(typingIdleTimer);
    if (typingSent) sendFrame({ type: "typing", on: false });
    typingSent = false;
  }

  // ---------------------------------------------------------------- small views

  function setTyping(on) {
    clearTimeout(typingShownTimer);
    typingEl.hidden = !on;
    if (on) {
      typingShownTimer = setTimeout(function () {
        typingEl.hidden = true;
      }, TYPING_SHOWN_MAX_MS);
      scrollToEnd();
    }
  }

  function showStatus(message) {
    status.textContent = message;
    status.hidden = false;
  }

  function hideStatus() {
    status.hidden = true;
  }

  function showError(message) {
    errorText.textContent = message;
    errorBox.hidden = false;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(hideError, ERROR_SHOWN_MS);
  }

  function hideError() {
    clearTimeout(errorTimer);
    errorBox.hidden = true;
  }

  function updateCounter() {
    var length = Array.from(input.value).length;
    // Only near the limit: a counter that is always there is noise.
    counter.hidden = length < maxTextChars * 0.9;
    counter.textContent = length + " / " + maxTextChars;
    counter.classList.toggle("loa-over", length > maxTextChars);
  }

  function growInput() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 120) + "px";
    input.style.overflowY = input.scrollHeight + 2 > 120 ? "auto" : "hidden";
  }

  function renderBadge() {
    badge.hidden = !unread;
    badge.textContent = unread > 9 ? "9+" : String(unread);
    launcher.setAttribute("aria-label", unread ? text.open + " (" + unread + " " + text.unread + ")" : text.open);
  }

  function markSeen() {
    if (highestShown > seenBefore) {
      seenBefore = highestShown;
      save("last_seen_id", String(highestShown));
    }
  }

  function scrollToEnd(force) {
    var nearEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    if (force || nearEnd || !isOpen) list.scrollTop = list.scrollHeight;
  }

  // ---------------------------------------------------------------- helpers

  function el(tag, className, attributes) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    for (var name in attributes || {}) node.setAttribute(name, attributes[name]);
    return node;
  }

  function link(href, label) {
    var anchor = el("a", "", { href: href });
    if (!/^tel:/.test(href)) {
      anchor.target = "_blank";
      anchor.rel = "noopener noreferrer";
    }
    anchor.textContent = label;
    return anchor;
  }

  /** The absolute URL when its scheme is allowed (never javascript:, data:…), else null. */
  function safeUrl(value, schemes) {
    try {
      var url = new URL(value, origin);
      return schemes.indexOf(url.protocol) >= 0 ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  function each(items, callback) {
    if (Array.isArray(items)) for (var i = 0; i < items.length; i++) callback(items[i]);
  }

  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(bytes);
    else for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    return Array.prototype.map
      .call(bytes, function (b) {
        return (b + 256).toString(16).slice(1);
      })
      .join("");
  }

  function pickLanguage(wanted) {
    var candidate = wanted || document.documentElement.lang || navigator.language || "vi";
    return String(candidate).toLowerCase().indexOf("en") === 0 ? "en" : "vi";
  }

  function validColor(value) {
    return value && window.CSS && CSS.supports && CSS.supports("color", value) ? value : null;
  }

  /** Black or white text, whichever reads better on a #rgb / #rrggbb background. */
  function readableOn(background) {
    var hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(background);
    if (!hex) return "#fff";
    var digits = hex[1].length === 3 ? hex[1].replace(/./g, "$&$&") : hex[1];
    var channels = [0, 2, 4].map(function (i) {
      var c = parseInt(digits.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var luminance = 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
    return luminance > 0.4 ? "#111" : "#fff";
  }

  function storageKey(name) {
    return "loa." + botId + "." + name;
  }

  function load(name) {
    try {
      return window.localStorage.getItem(storageKey(name));
    } catch (error) {
      return null; // storage disabled: the visitor is anonymous for this page only
    }
  }

  function save(name, value) {
    try {
      window.localStorage.setItem(storageKey(name), value);
    } catch (error) {
      // storage full or disabled: nothing to do
    }
  }

  function warn(message) {
    if (window.console) console.warn("loa widget: " + message);
  }

  function css() {
    return [
      ":host{all:initial}",
      "*{box-sizing:border-box}",
      "[hidden]{display:none!important}",
      ".loa-root{position:fixed;bottom:20px;right:20px;z-index:2147483000;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1f2328;text-align:left}",
      ".loa-left{right:auto;left:20px}",
      ".loa-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
      "button{font:inherit}",
      ":focus-visible{outline:2px solid #1a73e8;outline-offset:2px}",
      ".loa-launcher{position:relative;width:56px;height:56px;border:0;border-radius:50%;background:var(--c);color:var(--fg);cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center}",
      ".loa-launcher svg{width:28px;height:28px;fill:currentColor}",
      ".loa-badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;border-radius:10px;background:#d93025;color:#fff;font-size:12px;line-height:20px;text-align:center}",
      ".loa-panel{position:absolute;bottom:72px;right:0;width:370px;height:560px;max-height:calc(100vh - 110px);display:flex;flex-direction:column;overflow:hidden;background:#fff;border-radius:14px;box-shadow:0 8px 30px rgba(0,0,0,.25)}",
      ".loa-left .loa-panel{right:auto;left:0}",
      ".loa-header{display:flex;align-items:center;gap:8px;padding:12px 14px;background:var(--c);color:var(--fg)}",
      ".loa-title{flex:1;margin:0;font-size:16px;font-weight:600}",
      ".loa-icon-btn{width:32px;height:32px;border:0;border-radius:6px;background:transparent;color:inherit;font-size:22px;line-height:1;cursor:pointer}",
      ".loa-small{width:24px;height:24px;font-size:16px}",
      ".loa-status{padding:4px 12px;background:#fff4ce;color:#5c4400;font-size:12px;text-align:center}",
      ".loa-list{flex:1;overflow-y:auto;display:flex;flex-direction:column;gap:8px;padding:12px;background:#f6f7f9}",
      ".loa-msg{display:flex;flex-direction:column;align-items:flex-start;align-self:flex-start;gap:4px;max-width:85%}",
      ".loa-contact{align-self:flex-end;align-items:flex-end}",
      ".loa-system{align-self:center;align-items:center}",
      ".loa-text{padding:8px 12px;border:1px solid #e3e5e8;border-radius:14px;background:#fff;white-space:pre-wrap;overflow-wrap:anywhere}",
      ".loa-contact .loa-text{border-color:transparent;background:var(--c);color:var(--fg)}",
      ".loa-contact .loa-text a{color:inherit}",
      ".loa-system .loa-text{border:0;background:transparent;color:#5f6368;font-size:12px;text-align:center}",
      ".loa-who{font-size:11px;color:#5f6368}",
      ".loa-pending{opacity:.65}",
      ".loa-image img{display:block;max-width:220px;max-height:220px;border-radius:10px}",
      ".loa-file{padding:6px 10px;border:1px solid #e3e5e8;border-radius:10px;background:#fff;color:inherit}",
      ".loa-actions{display:flex;flex-direction:column;gap:4px;width:100%}",
      ".loa-action{display:block;padding:6px 10px;border:1px solid var(--c);border-radius:8px;background:#fff;color:var(--c);text-align:center;text-decoration:none;cursor:pointer}",
      ".loa-cards{display:flex;gap:8px;max-width:100%;overflow-x:auto;padding-bottom:4px}",
      ".loa-card{flex:0 0 200px;overflow:hidden;border:1px solid #e3e5e8;border-radius:12px;background:#fff}",
      ".loa-card img{display:block;width:100%;height:120px;object-fit:cover}",
      ".loa-card-body{display:flex;flex-direction:column;gap:4px;padding:8px}",
      ".loa-card-title{font-weight:600}",
      ".loa-card-subtitle{color:#5f6368;font-size:12px}",
      ".loa-typing{padding:2px 14px 6px;background:#f6f7f9}",
      ".loa-dots i{display:inline-block;width:6px;height:6px;margin-right:3px;border-radius:50%;background:#9aa0a6;animation:loa-blink 1.2s infinite}",
      ".loa-dots i:nth-child(2){animation-delay:.2s}.loa-dots i:nth-child(3){animation-delay:.4s}",
      "@keyframes loa-blink{0%,80%,100%{opacity:.3}40%{opacity:1}}",
      "@media (prefers-reduced-motion:reduce){.loa-dots i{animation:none}}",
      ".loa-quick{display:flex;flex-wrap:wrap;gap:6px;padding:6px 12px;background:#f6f7f9}",
      ".loa-chip{padding:5px 12px;border:1px solid var(--c);border-radius:16px;background:#fff;color:var(--c);cursor:pointer}",
      ".loa-error{display:flex;align-items:center;gap:6px;margin:6px 10px 0;padding:4px 4px 4px 10px;border-radius:8px;background:#fdecea;color:#8a1c14;font-size:12px}",
      ".loa-error-text{flex:1}",
      ".loa-counter{padding:2px 12px 0;color:#5f6368;font-size:11px;text-align:right}",
      ".loa-counter.loa-over{color:#b3261e;font-weight:600}",
      ".loa-composer{display:flex;align-items:flex-end;gap:8px;margin:0;padding:10px;border-top:1px solid #e3e5e8;background:#fff}",
      ".loa-input{flex:1;min-height:38px;max-height:120px;padding:8px 10px;border:1px solid #c9ccd1;border-radius:10px;font:inherit;line-height:20px;color:inherit;resize:none;overflow-y:hidden}",
      ".loa-send{height:38px;padding:0 14px;border:0;border-radius:10px;background:var(--c);color:var(--fg);font-weight:600;cursor:pointer}",
      "@media (max-width:480px){.loa-root{bottom:16px;right:16px}.loa-left{left:16px}" +
        ".loa-panel{position:fixed;inset:0;width:auto;height:auto;max-height:none;border-radius:0}" +
        ".loa-open .loa-launcher{display:none}.loa-input{font-size:16px}}",
    ].join("\n");
  }
})();
