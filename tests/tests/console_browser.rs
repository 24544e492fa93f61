//! The operator console in a real browser, next to the chat widget: one headless Chromium
//! with two windows on the real `loa serve` of the demo shop, a customer on the shop's
//! page and an operator on `/console`. The whole handover story is played through both
//! pages' own buttons and keys, and each step is checked on what the other page shows,
//! live (no reload): the request reaches the queue, the operator takes over, answers and
//! gives back, the bot answers again; another person's moves show up too.
//!
//! The console is read through its `data-testid` attributes and
//! `window.loaConsole.state()`; the widget through its shadow root, as in
//! `widget_browser.rs`. Screenshots of the console go to `tests/artifacts/console-*.png`.

use std::ffi::OsStr;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use fantoccini::elements::ShadowRoot;
use fantoccini::key::Key;
use fantoccini::wd::WindowHandle;
use loa_e2e::accounts::{DEMO_OWNER, Session, call, demo_shop_with_owner, login};
use loa_e2e::browser::Browser;
use loa_e2e::http::send;
use loa_e2e::serve::Server;
use loa_e2e::workspace_root;
use serde_json::{Value, json};

/// Starting Chromium, loading a page, connecting a socket on a cold, shared machine.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Something the other page did, seen here: the feed aims at well under a second; the
/// margin is for a loaded 2-core machine, the latencies are printed.
const LIVE_TIMEOUT: Duration = Duration::from_secs(15);
/// A bot answer (a turn through the pipeline).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

const ASK_FOR_PERSON: &str = "cho mình gặp nhân viên";
const WAITING_NOTICE: &str = "Nhân viên đang hỗ trợ bạn, vui lòng chờ trong giây lát.";
const JOINED_NOTICE: &str = "Nhân viên đã tham gia cuộc trò chuyện.";
const RETURNED_NOTICE_START: &str = "Trợ lý tự động sẽ tiếp tục";
const CLOSED_NOTICE: &str = "Cuộc trò chuyện đã kết thúc. Cảm ơn bạn!";
/// A question the FAQ answers too: the bot must stay silent while a person holds it.
const HELD_QUESTION: &str = "Áo linen còn size M không shop?";
const OPERATOR_REPLY: &str = "Dạ còn size M ạ, mình giữ hàng cho bạn nhé";
/// faq-01, answered by the bot once it has the conversation back.
const COD_QUESTION: &str = "shop có ship COD không?";
const COD_ANSWER_START: &str = "Có ạ, Mây giao hàng COD";

/// Puts the widget's shadow root in `root` for the script that follows.
const WITH_ROOT: &str = "const root = document.querySelector('loa-widget').shadowRoot;";

/// The widget's bubbles, in order, as `[{id, sender, text}]`.
const WIDGET_BUBBLES: &str =
    "return Array.from(root.querySelectorAll('[data-testid=loa-message]'), b => ({
    id: b.getAttribute('data-id') === null ? null : Number(b.getAttribute('data-id')),
    sender: b.getAttribute('data-sender'),
    text: Array.from(b.querySelectorAll('.loa-text'), t => t.textContent).join(' '),
}));";

/// The console's open conversation, as `[{id, sender, text, chips}]`.
const CONSOLE_MESSAGES: &str =
    "return Array.from(document.querySelectorAll('[data-testid=messages] [data-testid=message]'), m => ({
    id: Number(m.getAttribute('data-id')),
    sender: m.getAttribute('data-sender'),
    text: (m.querySelector('.msg-text') || {}).textContent || '',
    chips: Array.from(m.querySelectorAll('.msg-chip'), c => c.textContent),
}));";

/// Keeps the page's uncaught errors and unhandled rejections in `window.pageErrors`.
const WATCH_ERRORS: &str = "window.pageErrors = [];
    window.addEventListener('error', e => window.pageErrors.push(String(e.message)));
    window.addEventListener('unhandledrejection', e => window.pageErrors.push(String(e.reason)));";

/// The rows of the console's list `arguments[0]` (`queue`, `mine`, `all`).
const CONSOLE_ROWS: &str =
    "return Array.from(document.querySelectorAll(`[data-testid=${arguments[0]}] [data-testid=conversation-row]`), r => ({
    id: r.getAttribute('data-id'),
    state: r.getAttribute('data-state'),
    unread: r.querySelector('[data-testid=unread]').hidden ? 0 : Number(r.querySelector('[data-testid=unread]').textContent),
    wait: (r.querySelector('[data-testid=wait-time]') || {}).textContent || null,
    text: r.textContent,
}));";

/// The demo shop served with its site, the owner logged in over the API, and an operator
/// account (email, first password).
struct Shop {
    server: Server,
    owner: Session,
    operator: (String, String),
    _data: tempfile::TempDir,
}

impl Drop for Shop {
    /// A failed test shows what the server logged.
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("loa serve's stderr:\n{}", self.server.stderr());
        }
    }
}

async fn demo_shop() -> Shop {
    let (data, password) = demo_shop_with_owner("");
    let site = workspace_root().join("samples/demo-shop/site");
    let server = Server::start(data.path(), [OsStr::new("--site-dir"), site.as_os_str()]);
    let owner = login(server.base_url(), DEMO_OWNER, &password).await;
    let email = "lan@may.vn".to_owned();
    let added = call(
        server.base_url(),
        Some(&owner.access),
        "POST",
        "/v1/tenants/may/members",
        Some(&json!({"email": email, "role": "operator"})),
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.text());
    let first_password = added.json["initial_password"]
        .as_str()
        .expect("a first password")
        .to_owned();
    Shop {
        server,
        owner,
        operator: (email, first_password),
        _data: data,
    }
}

/// The two windows of the one browser.
struct Windows {
    console: WindowHandle,
    widget: WindowHandle,
}

async fn switch_to(browser: &Browser, window: &WindowHandle) {
    browser
        .client()
        .switch_to_window(window.clone())
        .await
        .expect("switch windows");
}

/// Runs `script` once in the current window.
async fn run(browser: &Browser, script: &str, args: Vec<Value>) -> Value {
    browser
        .client()
        .execute(script, args)
        .await
        .unwrap_or_else(|error| panic!("script failed: {error}\n{script}"))
}

/// Clicks the element at `css`, again while the page redraws it under the pointer (the
/// lists are rebuilt on live events: a row found a moment ago may be gone).
async fn click(browser: &Browser, css: &str) {
    let deadline = Instant::now() + LIVE_TIMEOUT;
    loop {
        let clicked = match browser.client().find(Locator::Css(css)).await {
            Ok(element) => element.click().await.map_err(|error| error.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match clicked {
            Ok(()) => return,
            Err(error) if Instant::now() > deadline => panic!("cannot click {css}: {error}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Types `text` into the element at `css` (the keys a person would press).
async fn type_into(browser: &Browser, css: &str, text: &str) {
    browser
        .client()
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("no {css}: {error}"))
        .send_keys(text)
        .await
        .expect("typing");
}

async fn press_enter(browser: &Browser, css: &str) {
    browser
        .client()
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("no {css}: {error}"))
        .send_keys(&Key::Enter)
        .await
        .expect("pressing Enter");
}

/// Saves a screenshot of the current window as `tests/artifacts/{name}`.
async fn screenshot(browser: &Browser, name: &str) {
    browser.save_screenshot(name).await;
}

/// Waits for a widget bubble from `sender` whose text satisfies the JS predicate
/// `matches` (on `t`); returns every bubble then.
async fn widget_shows(browser: &Browser, what: &str, sender: &str, matches: &str) -> Vec<Value> {
    let script = format!(
        "{WITH_ROOT} const bubbles = (() => {{ {WIDGET_BUBBLES} }})();
         return bubbles.some(b => b.sender === arguments[0] && b.id !== null && (t => {matches})(b.text))
           ? bubbles : null;"
    );
    let started = Instant::now();
    let bubbles = browser
        .wait_until(what, ANSWER_TIMEOUT, &script, vec![json!(sender)])
        .await;
    eprintln!("widget: {what} after {:?}", started.elapsed());
    bubbles.as_array().cloned().unwrap_or_default()
}

/// Types into the widget and presses Enter, as the customer would.
async fn customer_says(browser: &Browser, root: &ShadowRoot, text: &str) {
    let input = root
        .find(Locator::Css("[data-testid=loa-input]"))
        .await
        .expect("the widget's input");
    input.send_keys(text).await.expect("typing");
    input.send_keys(&Key::Enter).await.expect("pressing Enter");
    widget_shows(
        browser,
        "the customer's message stored",
        "contact",
        &format!("t === {}", json!(text)),
    )
    .await;
}

/// Waits for a console message from `sender` with exactly `text` (or starting with it
/// when `prefix`); returns every message on screen then.
async fn console_shows(browser: &Browser, what: &str, sender: &str, text: &str) -> Vec<Value> {
    let script = format!(
        "const messages = (() => {{ {CONSOLE_MESSAGES} }})();
         return messages.some(m => m.sender === arguments[0] && m.text.startsWith(arguments[1]))
           ? messages : null;"
    );
    let started = Instant::now();
    let messages = browser
        .wait_until(
            what,
            LIVE_TIMEOUT,
            &script,
            vec![json!(sender), json!(text)],
        )
        .await;
    eprintln!("console: {what} after {:?}", started.elapsed());
    messages.as_array().cloned().unwrap_or_default()
}

/// The rows of one of the console's lists.
async fn rows(browser: &Browser, list: &str) -> Vec<Value> {
    run(browser, CONSOLE_ROWS, vec![json!(list)])
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Waits until the open conversation's header shows `state`.
async fn console_state_is(browser: &Browser, state: &str) {
    browser
        .wait_until(
            &format!("the console to show the conversation as {state}"),
            LIVE_TIMEOUT,
            "return document.querySelector('.conversation-head [data-testid=state-badge]')
                .getAttribute('data-state') === arguments[0];",
            vec![json!(state)],
        )
        .await;
}

/// Whether the element at `css` is disabled.
async fn disabled(browser: &Browser, css: &str) -> bool {
    run(
        browser,
        "return document.querySelector(arguments[0]).disabled;",
        vec![json!(css)],
    )
    .await
        == json!(true)
}

/// The senders of a list of bubbles, in order.
fn senders(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|message| message["sender"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn the_console_is_served_from_the_binary_with_a_policy_that_keeps_it_on_this_host() {
    let (data, _) = demo_shop_with_owner("");
    let server = Server::start(data.path(), std::iter::empty::<&str>());
    for (path, kind) in [
        ("/console", "text/html"),
        ("/console/", "text/html"),
        ("/console/main.js", "text/javascript"),
        ("/console/constants.js", "text/javascript"),
        ("/console/strings.js", "text/javascript"),
        ("/console/dom.js", "text/javascript"),
        ("/console/state.js", "text/javascript"),
        ("/console/api.js", "text/javascript"),
        ("/console/session.js", "text/javascript"),
        ("/console/live.js", "text/javascript"),
        ("/console/events.js", "text/javascript"),
        ("/console/lists.js", "text/javascript"),
        ("/console/conversation.js", "text/javascript"),
        ("/console/details.js", "text/javascript"),
        ("/console/reply.js", "text/javascript"),
        ("/console/presence.js", "text/javascript"),
        ("/console/language.js", "text/javascript"),
        ("/console/console.css", "text/css"),
    ] {
        let answer = send("GET", &format!("{}{path}", server.base_url()), &[], "").await;
        assert_eq!(answer.status, 200, "{path}");
        assert!(
            answer
                .header("content-type")
                .is_some_and(|value| value.starts_with(kind)),
            "{path}: {:?}",
            answer.header("content-type")
        );
        assert_eq!(answer.header("cache-control"), Some("no-cache"), "{path}");
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
        if kind == "text/html" {
            let policy = answer.header("content-security-policy").unwrap_or_default();
            for directive in [
                "script-src 'self'",
                "connect-src 'self'",
                "frame-ancestors 'none'",
            ] {
                assert!(policy.contains(directive), "{path}: {policy}");
            }
            assert!(answer.text().contains("/console/main.js"));
        }
    }
}

/// Logs in on the console page: a wrong password first (the form says so), then the
/// right one; waits for the live feed.
async fn log_in(browser: &Browser, email: &str, password: &str) {
    type_into(browser, "[data-testid=login-email]", email).await;
    type_into(browser, "[data-testid=login-password]", "not-the-password").await;
    click(browser, "[data-testid=login-submit]").await;
    let refused = browser
        .wait_until(
            "the login form to refuse a wrong password",
            CONNECT_TIMEOUT,
            "const e = document.querySelector('[data-testid=login-error]');
             return !e.hidden && e.textContent;",
            vec![],
        )
        .await;
    assert_eq!(refused, "Sai email hoặc mật khẩu.");
    screenshot(browser, "console-login.png").await;
    browser
        .client()
        .find(Locator::Css("[data-testid=login-password]"))
        .await
        .expect("the password field")
        .clear()
        .await
        .expect("clear the password");
    type_into(browser, "[data-testid=login-password]", password).await;
    press_enter(browser, "[data-testid=login-password]").await;
    browser
        .wait_until(
            "the console to open its live feed",
            CONNECT_TIMEOUT,
            "const s = window.loaConsole.state(); return s.live && s.tenant === 'may';",
            vec![],
        )
        .await;
}

/// The shop's page in a new window with the widget open and connected.
async fn open_widget(browser: &Browser, url: &str) -> (WindowHandle, ShadowRoot) {
    let window = browser
        .client()
        .new_window(false)
        .await
        .expect("a second window")
        .handle;
    switch_to(browser, &window).await;
    browser.client().goto(url).await.expect("the shop's page");
    let root = browser.open_widget(CONNECT_TIMEOUT).await;
    (window, root)
}

#[tokio::test]
async fn an_operator_answers_a_handed_over_customer_from_the_console_while_both_pages_update_live()
{
    let shop = demo_shop().await;
    let base = shop.server.base_url().to_owned();
    let browser = Browser::start().await;

    // The operator logs in on the console.
    let console = browser.client().window().await.expect("the first window");
    browser
        .client()
        .goto(&format!("{base}/console"))
        .await
        .expect("the console loads");
    // Collects the page's uncaught errors from here on, checked at the end.
    run(&browser, WATCH_ERRORS, vec![]).await;
    let (email, password) = &shop.operator;
    log_in(&browser, email, password).await;
    let me = run(
        &browser,
        "return window.loaConsole.state().user_id;",
        vec![],
    )
    .await;
    browser
        .wait_until(
            "the operator to be listed online",
            LIVE_TIMEOUT,
            "return !!document.querySelector(
                `[data-testid=operator][data-user-id='${arguments[0]}'][data-status=online]`);",
            vec![me.clone()],
        )
        .await;
    // Away and back, with the toggle.
    click(&browser, "[data-testid=presence-toggle]").await;
    browser
        .wait_until(
            "the toggle to say away",
            LIVE_TIMEOUT,
            "return document.querySelector('[data-testid=presence-toggle]').dataset.status === 'away'
                && !!document.querySelector(`[data-testid=operator][data-user-id='${arguments[0]}'][data-status=away]`);",
            vec![me.clone()],
        )
        .await;
    click(&browser, "[data-testid=presence-toggle]").await;
    assert!(rows(&browser, "queue").await.is_empty(), "nobody waits yet");

    // The customer asks for a person on the shop's page.
    let (widget, root) = open_widget(&browser, &base).await;
    let windows = Windows { console, widget };
    customer_says(&browser, &root, ASK_FOR_PERSON).await;
    widget_shows(
        &browser,
        "the waiting notice",
        "system",
        &format!("t === {}", json!(WAITING_NOTICE)),
    )
    .await;
    let asked_at = Instant::now();

    // The console's queue shows it without a reload, its wait time ticking.
    switch_to(&browser, &windows.console).await;
    let queued = browser
        .wait_until(
            "the conversation in the queue",
            LIVE_TIMEOUT,
            &format!(
                "const rows = (() => {{ {CONSOLE_ROWS} }})();
                 return rows.length === 1 && rows[0].wait ? rows[0] : null;"
            ),
            vec![json!("queue")],
        )
        .await;
    eprintln!("console: queued after {:?}", asked_at.elapsed());
    let id = queued["id"].as_str().expect("a conversation id").to_owned();
    assert_eq!(queued["state"], "waiting");
    let first_wait = queued["wait"].as_str().unwrap_or_default().to_owned();
    assert!(
        first_wait.len() == 5 && first_wait.as_bytes()[2] == b':',
        "mm:ss, not {first_wait:?}"
    );
    browser
        .wait_until(
            "the wait time to tick",
            LIVE_TIMEOUT,
            "const w = document.querySelector('[data-testid=queue] [data-testid=wait-time]');
             return w && w.textContent !== arguments[0];",
            vec![json!(first_wait)],
        )
        .await;
    let all = rows(&browser, "all").await;
    assert!(
        all.iter().any(|row| row["id"] == id.as_str()),
        "all live lists it: {all:?}"
    );
    screenshot(&browser, "console-queue.png").await;

    // The operator opens it: the history and the bot's decision to hand over.
    click(
        &browser,
        &format!("[data-testid=queue] [data-testid=conversation-row][data-id='{id}']"),
    )
    .await;
    let history = console_shows(&browser, "the waiting notice", "system", WAITING_NOTICE).await;
    assert_eq!(senders(&history), ["contact", "system"], "{history:?}");
    assert_eq!(history[0]["text"], ASK_FOR_PERSON);
    let decision = browser
        .wait_until(
            "the handover decision in the trace",
            LIVE_TIMEOUT,
            "const d = document.querySelector('[data-testid=decision]');
             return d && {tier: d.dataset.tier, text: d.textContent};",
            vec![],
        )
        .await;
    assert_eq!(decision["tier"], "handover", "{decision}");
    assert!(
        decision["text"]
            .as_str()
            .unwrap_or_default()
            .contains("customer_asked"),
        "the trigger is shown: {decision}"
    );
    browser
        .wait_until(
            "the handover history",
            LIVE_TIMEOUT,
            "return !!document.querySelector('[data-testid=handover][data-trigger=customer_asked]');",
            vec![],
        )
        .await;
    assert!(
        disabled(&browser, "[data-testid=reply-input]").await,
        "no reply before taking over"
    );
    assert!(disabled(&browser, "[data-testid=give-back]").await);
    let queue = rows(&browser, "queue").await;
    assert_eq!(queue[0]["unread"], 0, "opened means read: {queue:?}");

    // Take over: the customer is told a person joined.
    click(&browser, "[data-testid=take]").await;
    console_state_is(&browser, "human").await;
    browser
        .wait_until(
            "the reply box to open and the conversation to be mine",
            LIVE_TIMEOUT,
            "return !document.querySelector('[data-testid=reply-input]').disabled
                && document.querySelectorAll('[data-testid=mine] [data-testid=conversation-row]').length === 1
                && document.querySelectorAll('[data-testid=queue] [data-testid=conversation-row]').length === 0;",
            vec![],
        )
        .await;
    browser
        .wait_until(
            "the take in the handover history",
            LIVE_TIMEOUT,
            "return !!document.querySelector('[data-testid=handover][data-trigger=operator_took]');",
            vec![],
        )
        .await;
    // The feed drops (as a network would) just before the customer writes: the console
    // reconnects, catches up, and shows the question once.
    run(&browser, "window.loaConsole.dropFeed();", vec![]).await;
    switch_to(&browser, &windows.widget).await;
    widget_shows(
        &browser,
        "the joined notice",
        "system",
        &format!("t === {}", json!(JOINED_NOTICE)),
    )
    .await;

    // The customer's question reaches the console; the bot keeps out of it.
    customer_says(&browser, &root, HELD_QUESTION).await;
    switch_to(&browser, &windows.console).await;
    let held = console_shows(&browser, "the held question", "contact", HELD_QUESTION).await;
    assert_eq!(
        senders(&held),
        ["contact", "system", "system", "contact"],
        "each message once: {held:#?}"
    );
    browser
        .wait_until(
            "the feed to be back",
            LIVE_TIMEOUT,
            "const s = window.loaConsole.state(); return s.live && s.sessions >= 2;",
            vec![],
        )
        .await;

    // The operator answers with a quick reply chip attached; Enter sends.
    click(&browser, "[data-testid=quick-chip]").await;
    let chip = run(
        &browser,
        "const c = document.querySelector('[data-testid=quick-chip]');
         return c.getAttribute('aria-pressed') === 'true' && c.textContent;",
        vec![],
    )
    .await;
    let chip = chip.as_str().expect("the chip is selected").to_owned();
    type_into(&browser, "[data-testid=reply-input]", OPERATOR_REPLY).await;
    press_enter(&browser, "[data-testid=reply-input]").await;
    let shown = console_shows(&browser, "the operator's reply", "operator", OPERATOR_REPLY).await;
    let reply = shown
        .iter()
        .find(|message| message["sender"] == "operator")
        .expect("the reply");
    assert_eq!(reply["chips"], json!([chip]), "{reply}");
    assert_eq!(
        run(
            &browser,
            "return document.querySelector('[data-testid=reply-input]').value;",
            vec![]
        )
        .await,
        "",
        "the reply box is emptied"
    );
    screenshot(&browser, "console-conversation.png").await;
    switch_to(&browser, &windows.widget).await;
    widget_shows(
        &browser,
        "the operator's reply",
        "operator",
        &format!("t === {}", json!(OPERATOR_REPLY)),
    )
    .await;

    // Give back: the customer is told, and the bot answers again. The access token has
    // gone bad meanwhile (as after 15 minutes): the page trades its refresh token and
    // carries on.
    switch_to(&browser, &windows.console).await;
    run(
        &browser,
        "sessionStorage.setItem('loa.console.access_token', 'expired');",
        vec![],
    )
    .await;
    click(&browser, "[data-testid=give-back]").await;
    console_state_is(&browser, "bot").await;
    assert!(disabled(&browser, "[data-testid=reply-input]").await);
    let token = run(
        &browser,
        "return sessionStorage.getItem('loa.console.access_token');",
        vec![],
    )
    .await;
    assert_ne!(token, "expired", "a new access token");
    browser
        .wait_until(
            "the give-back in the handover history",
            LIVE_TIMEOUT,
            "return !!document.querySelector('[data-testid=handover][data-trigger=operator_gave_back]');",
            vec![],
        )
        .await;
    switch_to(&browser, &windows.widget).await;
    widget_shows(
        &browser,
        "the return notice",
        "system",
        &format!("t.startsWith({})", json!(RETURNED_NOTICE_START)),
    )
    .await;
    customer_says(&browser, &root, COD_QUESTION).await;
    let widget_bubbles = widget_shows(
        &browser,
        "the bot's COD answer",
        "bot",
        &format!("t.startsWith({})", json!(COD_ANSWER_START)),
    )
    .await;
    let expected = [
        "contact", "system", "system", "contact", "operator", "system", "contact", "bot",
    ];
    assert_eq!(
        senders(&widget_bubbles),
        expected,
        "the bot was silent while a person held it: {widget_bubbles:#?}"
    );

    // The console saw all of it live, in the same order, and the bot's new decision.
    switch_to(&browser, &windows.console).await;
    let seen = console_shows(&browser, "the bot's answer", "bot", COD_ANSWER_START).await;
    assert_eq!(senders(&seen), expected, "{seen:#?}");
    let widget_ids: Vec<&Value> = widget_bubbles.iter().map(|b| &b["id"]).collect();
    let console_ids: Vec<&Value> = seen.iter().map(|m| &m["id"]).collect();
    assert_eq!(console_ids, widget_ids, "the same messages on both pages");
    browser
        .wait_until(
            "the bot's answer in the decision trace",
            LIVE_TIMEOUT,
            "const d = document.querySelectorAll('[data-testid=decision]');
             return d.length >= 2 && d[d.length - 1].dataset.tier !== 'handover';",
            vec![],
        )
        .await;

    // Another person's moves show up live: the owner takes it over the API, then closes.
    let path = format!("/v1/tenants/may/conversations/{id}");
    let taken = call(
        &base,
        Some(&shop.owner.access),
        "POST",
        &format!("{path}/take"),
        None,
    )
    .await;
    assert_eq!(taken.status, 200, "{}", taken.text());
    console_state_is(&browser, "human").await;
    assert!(disabled(&browser, "[data-testid=take]").await);
    assert!(disabled(&browser, "[data-testid=reply-input]").await);
    let hint = run(
        &browser,
        "return document.querySelector('[data-testid=reply-hint]').textContent;",
        vec![],
    )
    .await;
    let hint = hint.as_str().unwrap_or_default();
    assert!(
        hint.contains("đang xử lý") && !hint.contains("us_"),
        "says who else holds it, by name: {hint}"
    );
    let closed = call(
        &base,
        Some(&shop.owner.access),
        "POST",
        &format!("{path}/close"),
        None,
    )
    .await;
    assert_eq!(closed.status, 200, "{}", closed.text());
    console_state_is(&browser, "closed").await;
    browser
        .wait_until(
            "the closed conversation to leave the lists",
            LIVE_TIMEOUT,
            "return document.querySelectorAll('[data-testid=conversation-row]').length === 0;",
            vec![],
        )
        .await;
    console_shows(&browser, "the closing notice", "system", CLOSED_NOTICE).await;

    // English: the labels change, the choice is kept.
    browser
        .client()
        .find(Locator::Css("[data-testid=lang-switch]"))
        .await
        .expect("the language switch")
        .select_by_value("en")
        .await
        .expect("choose English");
    let labels = browser
        .wait_until(
            "the console in English",
            LIVE_TIMEOUT,
            "const take = document.querySelector('[data-testid=take]').textContent;
             const queue = document.querySelector('[data-testid=queue]').parentElement.querySelector('h2').textContent;
             return document.documentElement.lang === 'en' && take === 'Take over' ? {take, queue} : null;",
            vec![],
        )
        .await;
    assert!(
        labels["queue"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Queue"),
        "{labels}"
    );
    assert_eq!(
        run(
            &browser,
            "return localStorage.getItem('loa.console.lang');",
            vec![]
        )
        .await,
        "en"
    );
    screenshot(&browser, "console-en.png").await;
    assert_eq!(
        run(&browser, "return window.pageErrors;", vec![]).await,
        json!([]),
        "the console threw"
    );
    browser.close().await;
}
