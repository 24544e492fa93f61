/*! loa operator console: shop staff log in, watch the bot's conversations live and answer
 * the ones handed over to a person. No build step, no dependencies; served from the
 * binary at /console (host/src/http/console.rs).
 *
 * It talks to the admin API of the same host with a bearer token kept in sessionStorage
 * (one login per tab), and follows the tenant's live feed (GET …/live, server-sent events
 * read with fetch, since EventSource cannot send the token). Every server-provided string
 * is rendered with textContent or attributes, never as HTML.
 *
 * Sections: constants, strings, DOM helpers, state, API, login, tenant start, live feed,
 * applying events, lists, conversation view, actions and reply, quick replies, presence,
 * language, start-up.
 */
(function () {
  "use strict";

  // ---------------------------------------------------------------- constants

  // The live feed's reconnect delays: 1 s, then doubling, never above 10 s (a restarted
  // host is back within seconds; an operator should not wait longer than that).
  var BACKOFF_MS = [1000, 2000, 4000, 8000, 10000];
  // The server writes a keep-alive comment every 15 s: three missed means the connection
  // is dead without having been closed (a sleeping laptop, a proxy that dropped it).
  var STREAM_SILENCE_MS = 45000;
  // Presence: "online" again every 30 s while the tab is visible, so the server can tell a
  // closed laptop from an operator who is still there.
  var PRESENCE_EVERY_MS = 30000;
  // An operator not heard from for 90 s (three heartbeats) has gone, as the server counts.
  var PRESENCE_TTL_MS = 90000;
  // Messages per history request: the API's largest page.
  var PAGE_LIMIT = 200;
  // At most this many pages of one conversation's history (10,000 messages): a runaway
  // conversation must not freeze the tab.
  var MAX_HISTORY_PAGES = 50;
  // A reply that failed on the network is sent again this many times with the same
  // Idempotency-Key (the server stores it once), then left for the operator to retry.
  var SEND_RETRIES = 3;
  var ERROR_SHOWN_MS = 10000;
  // Coalesces bursts of events (a resume snapshot of many conversations) into one redraw.
  var RENDER_DELAY_MS = 16;
  // Coalesces the events of one turn (its message, the change of hands, the notice) into
  // one reload of the handovers and decisions; a turn stores them before it publishes.
  var DETAILS_DELAY_MS = 250;
  // Near the bottom means "following the conversation": new messages scroll into view.
  var STICK_TO_BOTTOM_PX = 80;

  var KEY = {
    access: "loa.console.access_token",
    refresh: "loa.console.refresh_token",
    user: "loa.console.user_id",
    tenant: "loa.console.tenant",
    lang: "loa.console.lang",
    quick: "loa.console.quick_replies",
    away: "loa.console.away"
  };

  // ---------------------------------------------------------------- strings

  var STRINGS = {
    vi: {
      console_title: "Bàn trực khách",
      email: "Email",
      password: "Mật khẩu",
      log_in: "Đăng nhập",
      logging_in: "Đang đăng nhập…",
      log_out: "Đăng xuất",
      language: "Ngôn ngữ",
      shop: "Cửa hàng",
      conversations: "Cuộc trò chuyện",
      queue: "Hàng chờ",
      mine: "Của tôi",
      all_live: "Tất cả đang mở",
      queue_empty: "Không có khách nào đang chờ.",
      mine_empty: "Bạn chưa nhận cuộc trò chuyện nào.",
      all_empty: "Chưa có cuộc trò chuyện nào đang mở.",
      operators: "Nhân viên",
      no_operators: "Chưa có ai trực tuyến.",
      pick_conversation: "Chọn một cuộc trò chuyện ở danh sách bên trái.",
      take: "Nhận xử lý",
      give_back: "Trả cho bot",
      close: "Kết thúc",
      quick_replies: "Trả lời nhanh",
      edit: "Sửa",
      done: "Xong",
      new_quick_reply: "Thêm câu trả lời nhanh",
      add: "Thêm",
      remove: "Xóa “{title}”",
      reply: "Trả lời",
      reply_placeholder: "Nhập câu trả lời… (Enter để gửi, Shift+Enter để xuống dòng)",
      send: "Gửi",
      sending: "Đang gửi…",
      customer: "Khách hàng",
      handover_history: "Lịch sử chuyển giao",
      no_handovers: "Chưa chuyển giao lần nào.",
      decision_trace: "Quyết định của bot",
      no_decisions: "Bot chưa xử lý lượt nào.",
      dismiss: "Đóng thông báo",
      online: "Trực tuyến",
      away: "Vắng mặt",
      set_away: "Đang trực tuyến, bấm để chuyển sang vắng mặt",
      set_online: "Đang vắng mặt, bấm để trực tuyến",
      live_on: "Đang cập nhật trực tiếp",
      live_off: "Mất kết nối, đang thử lại…",
      state_bot: "Bot",
      state_waiting: "Đang chờ",
      state_human: "Nhân viên",
      state_closed: "Đã kết thúc",
      sender_contact: "Khách",
      sender_bot: "Bot",
      sender_operator: "Nhân viên",
      sender_system: "Thông báo",
      you: "Bạn",
      visitor: "Khách",
      held_by: "Đang xử lý: {name}",
      hint_take: "Bấm “Nhận xử lý” để trả lời khách.",
      hint_other: "{name} đang xử lý cuộc trò chuyện này.",
      hint_closed: "Cuộc trò chuyện đã kết thúc.",
      hint_viewer: "Tài khoản của bạn chỉ được xem.",
      waiting_since: "Đã chờ {time}",
      no_messages: "(chưa có tin nhắn)",
      attachment: "[tệp đính kèm]",
      card: "[thẻ sản phẩm]",
      contact_id: "Mã khách",
      channel: "Kênh",
      channel_user: "Mã trên kênh",
      language_label: "Ngôn ngữ",
      bot_label: "Bot",
      started: "Bắt đầu",
      conversation_id: "Mã hội thoại",
      trigger_customer_asked: "Khách yêu cầu gặp nhân viên",
      trigger_low_confidence: "Bot không trả lời được nhiều lượt",
      trigger_middleware: "Plugin chuyển cho nhân viên",
      trigger_tool: "Công cụ chuyển cho nhân viên",
      trigger_operator_took: "Nhân viên nhận xử lý",
      trigger_operator_gave_back: "Nhân viên trả cho bot",
      trigger_operator_closed: "Nhân viên kết thúc",
      trigger_customer_cancelled: "Khách thôi chờ",
      trigger_human_idle: "Không ai nhắn, trả cho bot",
      first_reply: "trả lời đầu sau {time}",
      actor_contact: "khách",
      actor_bot: "bot",
      actor_system: "hệ thống",
      turn: "Lượt {n}",
      tier_fast_path: "FAQ",
      tier_knowledge: "Tài liệu",
      tier_agentic: "AI",
      tier_fallback: "Không hiểu",
      tier_middleware: "Plugin",
      tier_handover: "Chuyển nhân viên",
      tier_silent: "Im lặng",
      tier_dropped: "Bỏ qua",
      confident: "chắc chắn",
      not_confident: "không chắc",
      score: "điểm",
      latency: "thời gian",
      tokens: "token",
      matched: "Khớp",
      tried: "Đã thử",
      raw: "Chi tiết",
      bad_credentials: "Sai email hoặc mật khẩu.",
      fill_login: "Nhập email và mật khẩu.",
      too_many: "Thử quá nhiều lần. Vui lòng đợi một lát rồi thử lại.",
      session_expired: "Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.",
      no_tenant: "Tài khoản này chưa thuộc cửa hàng nào.",
      err_network: "Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.",
      err_already_taken: "{name} đã nhận cuộc trò chuyện này.",
      err_not_holder: "Bạn không giữ cuộc trò chuyện này ({name} đang xử lý hoặc chưa ai nhận).",
      err_invalid_transition: "Không thể làm vậy ở trạng thái hiện tại của cuộc trò chuyện.",
      err_invalid_reply: "Câu trả lời không hợp lệ: {message}",
      err_forbidden: "Tài khoản của bạn không có quyền làm việc này.",
      err_conversation_not_found: "Không tìm thấy cuộc trò chuyện.",
      err_other: "Có lỗi: {message}",
      send_failed: "Chưa gửi được. Bấm Gửi để thử lại.",
      nobody: "chưa ai"
    },
    en: {
      console_title: "Operator console",
      email: "Email",
      password: "Password",
      log_in: "Log in",
      logging_in: "Logging in…",
      log_out: "Log out",
      language: "Language",
      shop: "Shop",
      conversations: "Conversations",
      queue: "Queue",
      mine: "Mine",
      all_live: "All live",
      queue_empty: "Nobody is waiting.",
      mine_empty: "You hold no conversation.",
      all_empty: "No open conversation.",
      operators: "Operators",
      no_operators: "Nobody is online.",
      pick_conversation: "Pick a conversation from the lists on the left.",
      take: "Take over",
      give_back: "Give back",
      close: "Close",
      quick_replies: "Quick replies",
      edit: "Edit",
      done: "Done",
      new_quick_reply: "New quick reply",
      add: "Add",
      remove: "Remove “{title}”",
      reply: "Reply",
      reply_placeholder: "Type a reply… (Enter sends, Shift+Enter for a new line)",
      send: "Send",
      sending: "Sending…",
      customer: "Customer",
      handover_history: "Handover history",
      no_handovers: "Never handed over.",
      decision_trace: "Bot decisions",
      no_decisions: "The bot has not handled a turn yet.",
      dismiss: "Dismiss",
      online: "Online",
      away: "Away",
      set_away: "Online; click to go away",
      set_online: "Away; click to go online",
      live_on: "Live",
      live_off: "Offline, reconnecting…",
      state_bot: "Bot",
      state_waiting: "Waiting",
      state_human: "Operator",
      state_closed: "Closed",
      sender_contact: "Customer",
      sender_bot: "Bot",
      sender_operator: "Operator",
      sender_system: "Notice",
      you: "You",
      visitor: "Visitor",
      held_by: "Held by {name}",
      hint_take: "Take over to reply.",
      hint_other: "{name} is handling this conversation.",
      hint_closed: "This conversation is closed.",
      hint_viewer: "Your account can only read.",
      waiting_since: "Waiting {time}",
      no_messages: "(no messages yet)",
      attachment: "[attachment]",
      card: "[card]",
      contact_id: "Customer id",
      channel: "Channel",
      channel_user: "Id on the channel",
      language_label: "Language",
      bot_label: "Bot",
      started: "Started",
      conversation_id: "Conversation id",
      trigger_customer_asked: "Customer asked for a person",
      trigger_low_confidence: "The bot missed several turns",
      trigger_middleware: "A plugin asked for a person",
      trigger_tool: "A tool asked for a person",
      trigger_operator_took: "Operator took over",
      trigger_operator_gave_back: "Operator gave it back",
      trigger_operator_closed: "Operator closed it",
      trigger_customer_cancelled: "Customer stopped waiting",
      trigger_human_idle: "Idle, back to the bot",
      first_reply: "first reply after {time}",
      actor_contact: "customer",
      actor_bot: "bot",
      actor_system: "system",
      turn: "Turn {n}",
      tier_fast_path: "FAQ",
      tier_knowledge: "Documents",
      tier_agentic: "AI",
      tier_fallback: "Did not understand",
      tier_middleware: "Plugin",
      tier_handover: "Handover",
      tier_silent: "Silent",
      tier_dropped: "Dropped",
      confident: "confident",
      not_confident: "not confident",
      score: "score",
      latency: "latency",
      tokens: "tokens",
      matched: "Matched",
      tried: "Tried",
      raw: "Details",
      bad_credentials: "Wrong email or password.",
      fill_login: "Enter your email and password.",
      too_many: "Too many attempts. Wait a moment and try again.",
      session_expired: "Your session has ended. Please log in again.",
      no_tenant: "This account belongs to no shop yet.",
      err_network: "Cannot reach the server. Check the network and try again.",
      err_already_taken: "{name} already took this conversation.",
      err_not_holder: "You do not hold this conversation ({name} does, or nobody yet).",
      err_invalid_transition: "That is not possible in the conversation's current state.",
      err_invalid_reply: "The reply was refused: {message}",
      err_forbidden: "Your account may not do this.",
      err_conversation_not_found: "This conversation does not exist.",
      err_other: "Error: {message}",
      send_failed: "Not sent yet. Press Send to try again.",
      nobody: "nobody"
    }
  };

  // The chips a new operator starts with, in the language of the first visit.
  var DEFAULT_QUICK_REPLIES = {
    vi: ["Dạ vâng ạ", "Bạn chờ mình một chút nhé", "Cảm ơn bạn!"],
    en: ["Sure!", "One moment please", "Thank you!"]
  };

  var lang = pickLanguage(readLocal(KEY.lang));

  function pickLanguage(wanted) {
    return Object.prototype.hasOwnProperty.call(STRINGS, wanted) ? wanted : "vi";
  }

  /** The string `key` in the current language, with `{name}` placeholders filled. */
  function t(key, params) {
    var text = STRINGS[lang][key];
    if (text === undefined) text = STRINGS.en[key];
    if (text === undefined) return key;
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return params && params[name] !== undefined ? String(params[name]) : whole;
    });
  }

  // ---------------------------------------------------------------- DOM helpers

  /** The first element with `data-testid=id` (under `root`, default the document). */
  function byTestId(id, root) {
    return (root || document).querySelector('[data-testid="' + id + '"]');
  }

  /** A new element: `props` are attributes (`text` sets textContent), then children. */
  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (name) {
      var value = props[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function readLocal(key) {
    try {
      return localStorage.getItem(key);
    } catch (error) {
      return null;
    }
  }

  function writeLocal(key, value) {
    try {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, value);
    } catch (error) {
      // Storage disabled (private mode, policy): the choice lasts until the tab closes.
    }
  }

  function sleep(ms) {
    return new Promise(function (resolve) {
      setTimeout(resolve, ms);
    });
  }

  /** A random version-4 UUID; `crypto.randomUUID` exists only on https and localhost. */
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map
      .call(bytes, function (byte) {
        return (byte + 0x100).toString(16).slice(1);
      })
      .join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  // ---------------------------------------------------------------- state

  /** Everything the page knows; reset when the operator logs out or changes shop. */
  var S = freshState();

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

  function now() {
    return Date.now() + S.skew;
  }

  function userId() {
    return S.me ? S.me.id : sessionStorage.getItem(KEY.user);
  }

  function canAnswer() {
    return S.role === "owner" || S.role === "admin" || S.role === "operator";
  }

  // ---------------------------------------------------------------- API

  /** A refused call: HTTP status (0 for no answer) and the API's error code and message. */
  function ApiError(status, code, message) {
    this.status = status;
    this.code = code;
    this.message = message;
  }

  function tenantPath(rest) {
    return "/v1/tenants/" + encodeURIComponent(S.tenant) + rest;
  }

  function conversationPath(id, rest) {
    return tenantPath("/conversations/" + encodeURIComponent(id) + (rest || ""));
  }

  /**
   * `method path` with the access token and an optional JSON body; resolves to
   * `{status, data}` or rejects with an ApiError. A 401 trades the refresh token for new
   * tokens once and repeats the call; when that fails too, the login form comes back.
   */
  async function api(method, path, options) {
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
  function refreshTokens(usedToken) {
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

  function saveTokens(body) {
    sessionStorage.setItem(KEY.access, body.access_token);
    sessionStorage.setItem(KEY.refresh, body.refresh_token);
    if (body.user_id) sessionStorage.setItem(KEY.user, body.user_id);
  }

  function clearTokens() {
    [KEY.access, KEY.refresh, KEY.user].forEach(function (key) {
      sessionStorage.removeItem(key);
    });
  }

  /** The operator-facing text of a failed call. */
  function describe(error, conversation) {
    if (!(error instanceof ApiError)) return t("err_other", { message: String(error && error.message) });
    var holder = conversation && conversation.assigned_to ? operatorName(conversation.assigned_to) : t("nobody");
    var key = "err_" + error.code;
    if (STRINGS[lang][key]) return t(key, { name: holder, message: error.message });
    return t("err_other", { message: error.message });
  }

  // ---------------------------------------------------------------- errors on screen

  var errorTimer = null;

  function showError(text) {
    var toast = byTestId("error");
    toast.querySelector(".toast-text").textContent = text;
    toast.hidden = false;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(hideError, ERROR_SHOWN_MS);
  }

  function hideError() {
    byTestId("error").hidden = true;
  }

  // ---------------------------------------------------------------- login

  function showLogin(message) {
    document.getElementById("app").hidden = true;
    document.getElementById("login").hidden = false;
    var error = byTestId("login-error");
    error.textContent = message || "";
    error.hidden = !message;
    var email = byTestId("login-email");
    (email.value ? byTestId("login-password") : email).focus();
  }

  async function onLoginSubmit(event) {
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
  function sessionEnded() {
    if (!S.tenant && !sessionStorage.getItem(KEY.access)) return;
    leaveTenant();
    clearTokens();
    S = freshState();
    showLogin(t("session_expired"));
  }

  async function logOut() {
    var refreshToken = sessionStorage.getItem(KEY.refresh);
    if (S.tenant) {
      await api("PUT", tenantPath("/presence"), { body: { status: "away" }, noRefresh: true }).catch(function () {});
    }
    leaveTenant();
    clearTokens();
    S = freshState();
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
  async function enterConsole() {
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
  function enterTenant(tenantId, tenants, wanted) {
    leaveTenant();
    var me = S.me;
    S = freshState();
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

  function conversationInHash() {
    var match = /^#c=([\w.-]+)$/.exec(location.hash);
    return match ? match[1] : null;
  }

  // ---------------------------------------------------------------- live feed

  var live = { generation: 0, controller: null, attempt: 0, lastEventId: null, connected: false, sessions: 0, silence: null };

  function startLive() {
    stopLive();
    live.lastEventId = null;
    live.attempt = 0;
    var generation = ++live.generation;
    // Until the feed says `ready`, show what the store has.
    resync();
    runLive(generation);
  }

  function stopLive() {
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

  function setLiveStatus(connected) {
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

  // ---------------------------------------------------------------- applying events

  /** A conversation as it is now (changed hands, closed, or a resume snapshot). */
  function applyConversation(conversation) {
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
  function applyMessage(message) {
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

  function applyPresence(operator) {
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

  // ---------------------------------------------------------------- lists

  var renderTimer = null;

  function scheduleRender() {
    if (renderTimer) return;
    renderTimer = setTimeout(function () {
      renderTimer = null;
      renderLists();
      renderOperators();
    }, RENDER_DELAY_MS);
  }

  function renderAll() {
    renderLists();
    renderOperators();
    renderPresence();
    setLiveStatus(live.connected);
    renderView();
  }

  function renderLists() {
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

  function stateBadge(state) {
    return el("span", {
      className: "state-badge state-" + state,
      "data-testid": "state-badge",
      "data-state": state,
      text: t("state_" + state)
    });
  }

  function contactName(contact, conversation) {
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
  function tickWaitTimes() {
    var current = now();
    document.querySelectorAll('[data-testid="wait-time"]').forEach(function (node) {
      var since = Number(node.getAttribute("data-since"));
      var text = duration(current - since);
      node.textContent = text;
      node.setAttribute("aria-label", t("waiting_since", { time: text }));
    });
  }

  /** `mm:ss`, or `h:mm:ss` past an hour. */
  function duration(ms) {
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
  function shortTime(ms) {
    var date = new Date(ms);
    var today = new Date().toDateString() === date.toDateString();
    var options = today ? { hour: "2-digit", minute: "2-digit" } : { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" };
    return new Intl.DateTimeFormat(locale(), options).format(date);
  }

  function operatorName(id) {
    if (!id) return t("nobody");
    if (id === userId()) return t("you");
    var operator = S.operators.get(id);
    if (operator && operator.display_name) return operator.display_name;
    return S.members.get(id) || id;
  }

  function renderOperators() {
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

  // ---------------------------------------------------------------- conversation view

  /**
   * Opens a conversation: its history, contact, handovers and decisions. `S.view` is the
   * conversation on screen; a load that finishes after the operator moved on is dropped.
   */
  async function openConversation(id) {
    if (S.view && S.view.id === id) return;
    var entry = S.conversations.get(id);
    var view = {
      id: id,
      conversation: entry ? entry.conversation : null,
      contact: entry ? entry.contact : null,
      messages: new Map(),
      lastId: 0,
      resumeCursor: null,
      handovers: [],
      decisions: [],
      detailsTimer: null,
      // Numbers the reloads of the trace: an older answer arriving late is dropped.
      detailsAsked: 0
    };
    S.view = view;
    if (entry) {
      entry.unread = 0;
      if (entry.last_message) S.readUpTo.set(id, entry.last_message.id);
    }
    history.replaceState(null, "", "#c=" + id);
    renderView();
    scheduleRender();
    try {
      var loaded = await Promise.all([
        api("GET", conversationPath(id)),
        loadMessages(view, null),
        loadDetails(view)
      ]);
      if (S.view !== view) return;
      view.conversation = loaded[0].data.conversation;
      view.contact = loaded[0].data.contact || null;
      var known = S.conversations.get(id);
      if (known && !known.contact) known.contact = view.contact;
      renderView();
    } catch (error) {
      if (error.status === 401 || S.view !== view) return;
      showError(describe(error));
      if (error.status === 404) closeConversationView();
    }
  }

  function closeConversationView() {
    if (S.view) clearTimeout(S.view.detailsTimer);
    S.view = null;
    if (conversationInHash()) history.replaceState(null, "", location.pathname);
    renderView();
  }

  /** Every message after `cursor` (all of them for `null`), page by page. */
  async function loadMessages(view, cursor) {
    for (var page = 0; page < MAX_HISTORY_PAGES; page++) {
      var path = conversationPath(view.id, "/messages?limit=" + PAGE_LIMIT);
      if (cursor) path += "&cursor=" + encodeURIComponent(cursor);
      var data = (await api("GET", path)).data;
      if (S.view !== view) return;
      addMessages(view, data.messages || []);
      if (data.resume_cursor) view.resumeCursor = data.resume_cursor;
      if (!data.next_cursor) return;
      cursor = data.next_cursor;
    }
  }

  /** After the feed reconnects: the open conversation as it is, and what it missed. */
  async function catchUp(view) {
    var answer = await api("GET", conversationPath(view.id));
    if (S.view !== view) return;
    applyConversation(answer.data.conversation);
    await loadMessages(view, view.resumeCursor);
    await loadDetails(view);
  }

  async function loadDetails(view) {
    var asked = ++view.detailsAsked;
    var answers = await Promise.all([
      api("GET", conversationPath(view.id, "/handovers")),
      api("GET", conversationPath(view.id, "/decisions"))
    ]);
    if (S.view !== view || asked !== view.detailsAsked) return;
    view.handovers = answers[0].data.events || [];
    view.decisions = answers[1].data.decisions || [];
    renderDetails();
  }

  /**
   * Reloads the handovers and decisions soon. A reload already scheduled covers this
   * event too (it starts after it); postponing it instead would starve it while a busy
   * conversation keeps talking.
   */
  function scheduleDetails(view) {
    if (view.detailsTimer) return;
    view.detailsTimer = setTimeout(function () {
      view.detailsTimer = null;
      if (S.view !== view) return;
      loadDetails(view).catch(function (error) {
        if (error.status !== 401) console.warn("loa console: cannot reload the trace:", error.message);
      });
    }, DETAILS_DELAY_MS);
  }

  /** Adds messages not on screen yet (by id), in id order, following the bottom. */
  function addMessages(view, messages) {
    var list = byTestId("messages");
    var follow = list.scrollHeight - list.scrollTop - list.clientHeight < STICK_TO_BOTTOM_PX;
    var fresh = messages.filter(function (message) {
      return !view.messages.has(message.id);
    });
    if (!fresh.length) return;
    var inOrder = fresh.every(function (message, index) {
      return message.id > (index ? fresh[index - 1].id : view.lastId);
    });
    fresh.forEach(function (message) {
      view.messages.set(message.id, message);
      view.lastId = Math.max(view.lastId, message.id);
    });
    if (S.view !== view) return;
    if (inOrder) {
      fresh.forEach(function (message) {
        list.appendChild(bubble(message));
      });
    } else {
      renderMessages();
    }
    if (follow || fresh.some(isMine)) list.scrollTop = list.scrollHeight;
  }

  function isMine(message) {
    return message.sender && message.sender.kind === "operator" && message.sender.id === userId();
  }

  function renderMessages() {
    var list = byTestId("messages");
    list.textContent = "";
    if (!S.view) return;
    Array.from(S.view.messages.values())
      .sort(function (a, b) {
        return a.id - b.id;
      })
      .forEach(function (message) {
        list.appendChild(bubble(message));
      });
    list.scrollTop = list.scrollHeight;
  }

  function senderLabel(sender) {
    var kind = (sender && sender.kind) || "system";
    if (kind === "operator") return sender.id ? operatorName(sender.id) : t("sender_operator");
    return t("sender_" + kind);
  }

  /** One message: customer left, bot and operators right, system notices centred. */
  function bubble(message) {
    var sender = message.sender || { kind: "system" };
    var content = message.content || {};
    var time = el("time", {
      datetime: new Date(message.created_at_ms).toISOString(),
      text: shortTime(message.created_at_ms)
    });
    var item = el("li", {
      className: "msg msg-" + sender.kind + (isMine(message) ? " msg-mine" : ""),
      "data-testid": "message",
      "data-id": message.id,
      "data-sender": sender.kind
    });
    if (sender.kind === "system") {
      item.appendChild(el("p", { className: "msg-text", text: content.text || "" }));
      item.appendChild(time);
      return item;
    }
    item.appendChild(el("div", { className: "msg-meta" }, [el("span", { className: "msg-author", text: senderLabel(sender) }), " ", time]));
    if (content.text) item.appendChild(el("p", { className: "msg-text", text: content.text }));
    (content.attachments || []).forEach(function (attachment) {
      var name = attachment.name || attachment.mime || t("attachment");
      item.appendChild(
        safeUrl(attachment.url)
          ? el("a", { className: "msg-file", href: attachment.url, target: "_blank", rel: "noopener noreferrer", text: name })
          : el("span", { className: "msg-file", text: name })
      );
    });
    (content.cards || []).forEach(function (card) {
      item.appendChild(
        el("div", { className: "msg-card" }, [
          el("strong", { text: card.title }),
          card.subtitle ? el("span", { text: card.subtitle }) : null,
          chipRow((card.buttons || []).map(buttonTitle))
        ])
      );
    });
    var chips = (content.buttons || []).map(buttonTitle).concat(
      (content.quick_replies || []).map(function (quick) {
        return quick.title;
      })
    );
    if (chips.length) item.appendChild(chipRow(chips));
    return item;
  }

  function buttonTitle(button) {
    return button.title;
  }

  function chipRow(titles) {
    return el(
      "div",
      { className: "msg-chips" },
      titles.map(function (title) {
        return el("span", { className: "msg-chip", text: title });
      })
    );
  }

  function safeUrl(url) {
    return /^https?:\/\//i.test(String(url || ""));
  }

  /** The whole view: placeholder, or the open conversation. */
  function renderView() {
    var view = S.view;
    var body = document.querySelector(".conversation-body");
    byTestId("no-conversation").hidden = !!view;
    body.hidden = !view;
    byTestId("details").hidden = !view;
    if (!view) {
      byTestId("messages").textContent = "";
      return;
    }
    renderViewHead();
    renderMessages();
    renderDetails();
    renderQuickReplies();
  }

  /** The header (who, state, holder), the move buttons and whether the reply is open. */
  function renderViewHead() {
    var view = S.view;
    if (!view) return;
    var conversation = view.conversation;
    var entry = S.conversations.get(view.id);
    var contact = view.contact || (entry && entry.contact);
    byTestId("contact-name").textContent = conversation ? contactName(contact, conversation) : "…";
    var badge = byTestId("state-badge", document.querySelector(".conversation-head"));
    var state = conversation ? conversation.state : "";
    badge.className = "state-badge state-" + state;
    badge.setAttribute("data-state", state);
    badge.textContent = state ? t("state_" + state) : "";
    var holder = byTestId("holder");
    holder.textContent = state === "human" ? t("held_by", { name: operatorName(conversation.assigned_to) }) : "";
    var mine = state === "human" && conversation.assigned_to === userId();
    var allowed = canAnswer() && !!conversation;
    byTestId("take").disabled = !allowed || (state !== "bot" && state !== "waiting");
    byTestId("give-back").disabled = !allowed || !mine;
    byTestId("close").disabled = !allowed || state === "closed" || (state === "human" && !mine);
    var hint = "";
    if (!conversation) hint = "";
    else if (!canAnswer()) hint = t("hint_viewer");
    else if (state === "closed") hint = t("hint_closed");
    else if (state === "human" && !mine) hint = t("hint_other", { name: operatorName(conversation.assigned_to) });
    else if (!mine) hint = t("hint_take");
    var hintNode = byTestId("reply-hint");
    hintNode.textContent = hint;
    hintNode.hidden = !hint;
    setReplyEnabled(mine && canAnswer());
    renderContact();
  }

  function setReplyEnabled(enabled) {
    var input = byTestId("reply-input");
    input.disabled = !enabled;
    byTestId("reply-send").disabled = !enabled || sending;
    document.querySelectorAll('[data-testid="quick-chip"]').forEach(function (chip) {
      chip.disabled = !enabled;
    });
  }

  function renderContact() {
    var view = S.view;
    var facts = byTestId("contact-info");
    facts.textContent = "";
    if (!view || !view.conversation) return;
    var contact = view.contact || {};
    var conversation = view.conversation;
    [
      ["customer", contact.display_name || null],
      ["contact_id", conversation.contact_id],
      ["channel", conversation.channel_id],
      ["channel_user", contact.channel_user_id || null],
      ["bot_label", conversation.bot_id],
      ["language_label", conversation.language],
      ["started", shortTime(conversation.created_at_ms)],
      ["conversation_id", conversation.id]
    ].forEach(function (pair) {
      if (!pair[1]) return;
      facts.appendChild(el("dt", { text: t(pair[0]) }));
      facts.appendChild(el("dd", { text: pair[1] }));
    });
  }

  function renderDetails() {
    var view = S.view;
    if (!view) return;
    var history = byTestId("handovers");
    history.textContent = "";
    if (!view.handovers.length) history.appendChild(el("li", { className: "empty", text: t("no_handovers") }));
    view.handovers.forEach(function (event) {
      var extra = [];
      if (event.actor) extra.push(actorName(event.actor));
      if (event.first_reply_ms) extra.push(t("first_reply", { time: duration(event.first_reply_ms - event.at_ms) }));
      history.appendChild(
        el("li", { "data-testid": "handover", "data-trigger": event.trigger }, [
          el("time", { datetime: new Date(event.at_ms).toISOString(), text: shortTime(event.at_ms) }),
          el("span", { className: "handover-what", text: t("trigger_" + event.trigger) }),
          el("span", { className: "handover-states" }, [stateBadge(event.from_state), " → ", stateBadge(event.to_state)]),
          extra.length ? el("span", { className: "muted", text: extra.join(" · ") }) : null,
          event.reason ? el("span", { className: "muted", text: event.reason }) : null
        ])
      );
    });
    var decisions = byTestId("decisions");
    decisions.textContent = "";
    if (!view.decisions.length) decisions.appendChild(el("li", { className: "empty", text: t("no_decisions") }));
    view.decisions.forEach(function (entry, index) {
      decisions.appendChild(decisionItem(entry, index + 1));
    });
  }

  function actorName(actor) {
    if (actor.indexOf("user:") === 0) return operatorName(actor.slice(5));
    var key = "actor_" + actor;
    return STRINGS[lang][key] ? t(key) : actor;
  }

  /** One turn of the bot's trace: tier, confidence, score, latency, what matched. */
  function decisionItem(entry, number) {
    var decision = entry.decision || {};
    var facts = decisionFacts(decision.candidates);
    var numbers = [decision.confident ? t("confident") : t("not_confident")];
    if (typeof decision.score === "number") numbers.push(t("score") + " " + decision.score.toFixed(3));
    numbers.push(t("latency") + " " + decision.latency_ms + " ms");
    if (decision.tokens) numbers.push(decision.tokens + " " + t("tokens"));
    var tierKey = "tier_" + decision.tier;
    return el(
      "li",
      {
        className: "decision" + (decision.confident ? "" : " decision-unsure"),
        "data-testid": "decision",
        "data-tier": decision.tier,
        "data-key": entry.key
      },
      [
        el("div", { className: "decision-head" }, [
          el("span", { className: "decision-turn", text: t("turn", { n: number }) }),
          el("span", { className: "tier tier-" + decision.tier, text: STRINGS[lang][tierKey] ? t(tierKey) : decision.tier }),
          el("time", { datetime: new Date(entry.created_at_ms).toISOString(), text: shortTime(entry.created_at_ms) })
        ]),
        el("div", { className: "muted", text: numbers.join(" · ") }),
        facts.tried.length ? el("div", { className: "decision-line", text: t("tried") + ": " + facts.tried.join(" → ") }) : null,
        facts.matched.length ? el("div", { className: "decision-line", "data-testid": "decision-matched", text: t("matched") + ": " + facts.matched.join(", ") }) : null,
        facts.notes.length ? el("div", { className: "decision-line", text: facts.notes.join(" · ") }) : null,
        el("details", {}, [el("summary", { text: t("raw") }), el("pre", { text: JSON.stringify(decision.candidates, null, 2) })])
      ]
    );
  }

  /**
   * What a decision's candidates say, whatever their shape: the tiers tried (a trace of
   * `{tier, confident}`), the FAQ entries and documents that matched with their scores,
   * and the reasons, triggers and phrases the turn gave.
   */
  function decisionFacts(candidates) {
    var tried = [];
    var faqs = new Map();
    var notes = [];
    var noteFields = ["reason", "trigger", "phrase", "error", "replied_by", "asked_by", "dropped_by"];
    function addFaq(id, score, document) {
      var name = document ? document : id;
      var best = faqs.get(name);
      if (best === undefined || (typeof score === "number" && score > best)) faqs.set(name, typeof score === "number" ? score : null);
    }
    function walk(value, depth) {
      if (depth > 6 || value === null || typeof value !== "object") return;
      if (Array.isArray(value)) {
        value.forEach(function (item) {
          walk(item, depth + 1);
        });
        return;
      }
      if (typeof value.tier === "string" && "confident" in value) tried.push(value.tier + (value.confident ? " ✓" : " ✗"));
      if (typeof value.faq === "string") addFaq(value.faq, value.score);
      if (typeof value.id === "string" && typeof value.score === "number" && depth > 0) addFaq(value.id, value.score, value.document);
      noteFields.forEach(function (field) {
        if (typeof value[field] === "string" && value[field]) notes.push(field + ": " + value[field]);
      });
      Object.keys(value).forEach(function (key) {
        if (key !== "tier" && typeof value[key] === "object") walk(value[key], depth + 1);
      });
    }
    walk(candidates, 0);
    var matched = Array.from(faqs.entries())
      .sort(function (a, b) {
        return (b[1] || 0) - (a[1] || 0);
      })
      .slice(0, 3)
      .map(function (pair) {
        return pair[1] === null ? pair[0] : pair[0] + " (" + pair[1].toFixed(2) + ")";
      });
    return { tried: tried, matched: matched, notes: notes };
  }

  // ---------------------------------------------------------------- actions and reply

  async function move(action, button) {
    var view = S.view;
    if (!view) return;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      var answer = (await api("POST", conversationPath(view.id, "/" + action))).data;
      hideError();
      applyConversation(answer.conversation);
      if (answer.notice) applyMessage(answer.notice);
      if (action === "take" && S.view === view) byTestId("reply-input").focus();
    } catch (error) {
      if (error.status === 401) return;
      // Show who really holds it: the 409 was about a change this page had not seen yet.
      var fresh = await api("GET", conversationPath(view.id)).catch(function () {
        return null;
      });
      if (fresh) applyConversation(fresh.data.conversation);
      showError(describe(error, fresh ? fresh.data.conversation : view.conversation));
    } finally {
      button.removeAttribute("aria-busy");
      renderViewHead();
    }
  }

  var sending = false;
  // The reply being sent: its Idempotency-Key stays the same on every retry of the same
  // text and chips, so the customer never gets it twice.
  var pendingReply = null;

  async function sendReply() {
    var view = S.view;
    var input = byTestId("reply-input");
    var text = input.value.trim();
    if (!view || !text || sending || input.disabled) return;
    var quickReplies = selectedQuickReplies();
    var fingerprint = view.id + "\n" + text + "\n" + JSON.stringify(quickReplies);
    if (!pendingReply || pendingReply.fingerprint !== fingerprint) pendingReply = { fingerprint: fingerprint, key: uuid() };
    var key = pendingReply.key;
    sending = true;
    var button = byTestId("reply-send");
    button.disabled = true;
    button.textContent = t("sending");
    try {
      var answer = await sendWithRetries(view.id, key, { text: text, quick_replies: quickReplies });
      pendingReply = null;
      hideError();
      if (input.value.trim() === text) input.value = "";
      selectedChips.clear();
      renderQuickReplies();
      applyMessage(answer.data.message);
    } catch (error) {
      if (error.status !== 401) showError(error.status === 0 ? t("send_failed") : describe(error, view.conversation));
      // A refusal (not the network) will not change on a retry: the next try is new.
      if (error.status !== 0) pendingReply = null;
    } finally {
      sending = false;
      button.textContent = t("send");
      renderViewHead();
    }
  }

  async function sendWithRetries(id, key, body) {
    for (var attempt = 0; ; attempt++) {
      try {
        return await api("POST", conversationPath(id, "/reply"), { body: body, headers: { "Idempotency-Key": key } });
      } catch (error) {
        var transient = error.status === 0 || error.status >= 500;
        if (!transient || attempt >= SEND_RETRIES) throw error;
        await sleep(BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]);
      }
    }
  }

  function onReplyKey(event) {
    // Enter sends, Shift+Enter is a new line; an IME composing Vietnamese (Telex, VNI)
    // confirms its word with Enter, which must not send.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      sendReply();
    }
  }

  // ---------------------------------------------------------------- quick replies

  var selectedChips = new Set();

  function quickReplies() {
    var saved = readLocal(KEY.quick);
    if (saved) {
      try {
        var list = JSON.parse(saved);
        if (Array.isArray(list)) return list.filter(function (item) {
          return typeof item === "string" && item.trim();
        });
      } catch (error) {
        // A broken list is replaced by the defaults below.
      }
    }
    return DEFAULT_QUICK_REPLIES[lang].slice();
  }

  function saveQuickReplies(list) {
    writeLocal(KEY.quick, JSON.stringify(list));
  }

  function selectedQuickReplies() {
    return quickReplies()
      .filter(function (title) {
        return selectedChips.has(title);
      })
      .map(function (title) {
        return { title: title, payload: title };
      });
  }

  function renderQuickReplies() {
    var list = quickReplies();
    var holder = document.querySelector(".chip-list");
    holder.textContent = "";
    var enabled = !byTestId("reply-input").disabled;
    list.forEach(function (title) {
      var chip = el("button", {
        type: "button",
        className: "chip",
        "data-testid": "quick-chip",
        "aria-pressed": selectedChips.has(title) ? "true" : "false",
        text: title
      });
      chip.disabled = !enabled;
      chip.addEventListener("click", function () {
        if (selectedChips.has(title)) selectedChips.delete(title);
        else selectedChips.add(title);
        chip.setAttribute("aria-pressed", selectedChips.has(title) ? "true" : "false");
      });
      holder.appendChild(chip);
    });
    var editList = document.querySelector(".chip-edit-list");
    editList.textContent = "";
    list.forEach(function (title, index) {
      var remove = el("button", {
        type: "button",
        className: "link",
        "data-testid": "quick-remove",
        "aria-label": t("remove", { title: title }),
        text: "×"
      });
      remove.addEventListener("click", function () {
        var next = quickReplies();
        next.splice(index, 1);
        selectedChips.delete(title);
        saveQuickReplies(next);
        renderQuickReplies();
      });
      editList.appendChild(el("li", {}, [el("span", { text: title }), remove]));
    });
  }

  function addQuickReply() {
    var input = byTestId("quick-new");
    var title = input.value.trim();
    if (!title) return;
    var list = quickReplies();
    if (list.indexOf(title) < 0 && list.length < 10) list.push(title);
    saveQuickReplies(list);
    input.value = "";
    renderQuickReplies();
    input.focus();
  }

  function toggleQuickEditor() {
    var editor = byTestId("quick-editor");
    var button = byTestId("quick-edit");
    editor.hidden = !editor.hidden;
    button.setAttribute("aria-expanded", editor.hidden ? "false" : "true");
    button.textContent = t(editor.hidden ? "edit" : "done");
    if (!editor.hidden) byTestId("quick-new").focus();
  }

  // ---------------------------------------------------------------- presence

  var presence = { timer: null };

  /** What the operator chose with the toggle; a hidden tab counts as away whatever it is. */
  function chosenStatus() {
    return readLocal(KEY.away) === "1" ? "away" : "online";
  }

  function currentStatus() {
    return document.visibilityState === "hidden" ? "away" : chosenStatus();
  }

  function startPresence() {
    stopPresence();
    sendPresence();
    presence.timer = setInterval(function () {
      if (document.visibilityState === "visible") sendPresence();
    }, PRESENCE_EVERY_MS);
  }

  function stopPresence() {
    clearInterval(presence.timer);
    presence.timer = null;
  }

  function sendPresence(keepalive) {
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

  function renderPresence() {
    var toggle = byTestId("presence-toggle");
    toggle.hidden = !!S.tenant && !canAnswer();
    var status = chosenStatus();
    toggle.setAttribute("aria-pressed", status === "online" ? "true" : "false");
    toggle.setAttribute("data-status", status);
    toggle.setAttribute("title", t(status === "online" ? "set_away" : "set_online"));
    toggle.querySelector(".presence-text").textContent = t(status);
  }

  function togglePresence() {
    writeLocal(KEY.away, chosenStatus() === "online" ? "1" : null);
    renderPresence();
    sendPresence();
  }

  // ---------------------------------------------------------------- language

  /** Fills every static text from the table and redraws what the script wrote. */
  function applyLanguage() {
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

  function setLanguage(wanted) {
    lang = pickLanguage(wanted);
    writeLocal(KEY.lang, lang);
    applyLanguage();
  }

  // ---------------------------------------------------------------- start-up

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
})();
