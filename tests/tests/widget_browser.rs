//! The web chat widget in a real browser: headless Chromium on the demo shop's page, served
//! by the real `loa serve` with the demo tenant (bot `may`) answering from its FAQ.
//!
//! Everything inside the widget is reached through its shadow root, as a visitor's clicks
//! and keys would: the launcher, the input, the send key. The page's state is read back
//! through `window.loaWidget.state()` and the bubbles' `data-id` / `data-sender`.

use std::ffi::OsStr;
use std::time::Duration;

use fantoccini::Locator;
use fantoccini::elements::ShadowRoot;
use fantoccini::key::Key;
use loa_e2e::browser::Browser;
use loa_e2e::serve::Server;
use loa_e2e::{finish, loa, workspace_root};
use serde_json::{Value, json};
use tokio::sync::MutexGuard;

/// One browser at a time: three Chromiums and three servers at once on a 2-core machine
/// would turn every timeout below into a coin toss.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The first answer may wait for the FAQ index to warm up.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Not the FAQ's wording (faq-01 is "Shop có giao hàng thu tiền tận nơi (COD) không?").
const COD_QUESTION: &str = "shop có ship COD không?";
/// faq-31, answered "Cả hai cửa hàng mở cửa từ 9:00 đến 21:30 …".
const HOURS_QUESTION: &str = "Cửa hàng mở cửa mấy giờ?";

/// Puts the widget's shadow root in `root` for the script that follows.
const WITH_ROOT: &str = "const root = document.querySelector('loa-widget').shadowRoot;";

/// The bubbles on screen, in order, as `[{id, sender, text, pending}]`.
const BUBBLES: &str =
    "return Array.from(root.querySelectorAll('[data-testid=loa-message]'), b => ({
    id: b.getAttribute('data-id') === null ? null : Number(b.getAttribute('data-id')),
    sender: b.getAttribute('data-sender'),
    text: Array.from(b.querySelectorAll('.loa-text'), t => t.textContent).join(' '),
    pending: b.classList.contains('loa-pending'),
}));";

/// The demo shop's data directory and its running server.
struct Shop {
    server: Server,
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

/// `loa tenant apply samples/demo-shop/shop.toml`, then `loa serve` of the demo site with
/// `host_config` as `loa.toml`.
fn demo_shop(host_config: &str) -> Shop {
    let data = tempfile::tempdir().expect("temporary data dir");
    let config = data.path().join("loa.toml");
    std::fs::write(&config, host_config).expect("write loa.toml");
    finish(
        loa(data.path())
            .arg("--data-dir")
            .arg(data.path())
            .arg("--host-config")
            .arg(&config)
            .args(["tenant", "apply"])
            .arg(workspace_root().join("samples/demo-shop/shop.toml")),
    )
    .success();
    let site = workspace_root().join("samples/demo-shop/site");
    let server = Server::start(data.path(), [OsStr::new("--site-dir"), site.as_os_str()]);
    Shop {
        server,
        _data: data,
    }
}

/// The demo shop with `host_config`, a fresh browser on its page, the widget open. The
/// guard keeps other browser tests waiting until this one ends.
async fn visit_demo_shop(
    host_config: &str,
) -> (MutexGuard<'static, ()>, Shop, Browser, ShadowRoot) {
    let one_browser = ONE_BROWSER.lock().await;
    let shop = demo_shop(host_config);
    let browser = Browser::start().await;
    let root = open_widget(&browser, shop.server.base_url()).await;
    (one_browser, shop, browser, root)
}

/// Loads the shop's page and opens the widget.
async fn open_widget(browser: &Browser, url: &str) -> ShadowRoot {
    browser
        .client()
        .goto(url)
        .await
        .expect("the shop's page loads");
    browser.open_widget(CONNECT_TIMEOUT).await
}

/// Types `text` into the widget's input and presses Enter, as a visitor would.
async fn ask(root: &ShadowRoot, text: &str) {
    let input = root
        .find(Locator::Css("[data-testid=loa-input]"))
        .await
        .expect("the message input");
    input.send_keys(text).await.expect("typing");
    input.send_keys(&Key::Enter).await.expect("pressing Enter");
}

/// Waits until a bot bubble contains `needle` and nothing is pending; returns the bubbles.
async fn wait_for_answer(browser: &Browser, needle: &str) -> Vec<Value> {
    let script = format!(
        "{WITH_ROOT} const bubbles = (() => {{ {BUBBLES} }})();
         const answered = bubbles.some(b => b.sender === 'bot' && b.text.includes(arguments[0]));
         return answered && !bubbles.some(b => b.pending) ? bubbles : null;"
    );
    let bubbles = browser
        .wait_until(
            &format!("a bot answer containing {needle:?}"),
            ANSWER_TIMEOUT,
            &script,
            vec![json!(needle)],
        )
        .await;
    bubbles.as_array().cloned().unwrap_or_default()
}

async fn bubbles(browser: &Browser) -> Vec<Value> {
    let value = browser
        .client()
        .execute(&format!("{WITH_ROOT} {BUBBLES}"), vec![])
        .await
        .expect("reading the bubbles");
    value.as_array().cloned().unwrap_or_default()
}

async fn widget_state(browser: &Browser) -> Value {
    browser
        .client()
        .execute("return window.loaWidget.state();", vec![])
        .await
        .expect("window.loaWidget.state()")
}

/// How many bubbles from `sender` have a text for which `matches` holds.
fn count(bubbles: &[Value], sender: &str, matches: impl Fn(&str) -> bool) -> usize {
    bubbles
        .iter()
        .filter(|b| b["sender"] == sender && matches(b["text"].as_str().unwrap_or_default()))
        .count()
}

/// Every bubble has a message id, and no id is on screen twice.
fn assert_ids_unique(bubbles: &[Value]) -> Vec<u64> {
    let ids: Vec<u64> = bubbles
        .iter()
        .map(|b| {
            b["id"]
                .as_u64()
                .unwrap_or_else(|| panic!("bubble without a message id: {b}"))
        })
        .collect();
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        ids.len(),
        "a message shown twice: {bubbles:#?}"
    );
    ids
}

#[tokio::test]
async fn visitor_asks_about_cod_and_the_widget_shows_the_faq_answer() {
    let (_one_browser, _shop, browser, root) = visit_demo_shop("").await;

    ask(&root, COD_QUESTION).await;
    let shown = wait_for_answer(&browser, "COD").await;
    assert_ids_unique(&shown);
    assert_eq!(
        count(&shown, "contact", |t| t == COD_QUESTION),
        1,
        "{shown:#?}"
    );
    assert_eq!(
        count(&shown, "bot", |t| t.contains("Mây giao hàng COD")),
        1,
        "{shown:#?}"
    );
    assert!(
        shown[0]["id"].as_u64() < shown[1]["id"].as_u64(),
        "question before answer"
    );

    // The page's `button { background: yellow }` stays outside the shadow root.
    let send_background = root
        .find(Locator::Css("[data-testid=loa-send]"))
        .await
        .expect("the send button")
        .css_value("background-color")
        .await
        .expect("its computed background");
    assert_eq!(
        send_background, "rgba(233, 30, 99, 1)",
        "data-color #e91e63"
    );

    let screenshot = browser.client().screenshot().await.expect("a screenshot");
    let artifacts = workspace_root().join("tests/artifacts");
    std::fs::create_dir_all(&artifacts).expect("create tests/artifacts");
    std::fs::write(artifacts.join("widget.png"), screenshot).expect("save widget.png");

    // Escape closes the panel and gives the focus back to the launcher.
    root.find(Locator::Css("[data-testid=loa-input]"))
        .await
        .expect("the message input")
        .send_keys(&Key::Escape)
        .await
        .expect("pressing Escape");
    browser
        .wait_until(
            "Escape to close the widget and focus the launcher",
            CONNECT_TIMEOUT,
            &format!(
                "{WITH_ROOT} return !window.loaWidget.state().open
                   && root.activeElement && root.activeElement.dataset.testid === 'loa-launcher';"
            ),
            vec![],
        )
        .await;
    browser.close().await;
}

#[tokio::test]
async fn widget_reconnects_after_dropped_replies_and_shows_every_message_once() {
    // The server drops the visitor's socket right before pushing each bot reply (stored).
    let (_one_browser, _shop, browser, root) =
        visit_demo_shop("[widget]\nfault_drop_every_nth_reply = 1\n").await;

    ask(&root, COD_QUESTION).await;
    wait_for_answer(&browser, "COD").await;
    ask(&root, HOURS_QUESTION).await;
    let shown = wait_for_answer(&browser, "9:00").await;

    let ids = assert_ids_unique(&shown);
    assert_eq!(
        count(&shown, "contact", |t| t == COD_QUESTION),
        1,
        "{shown:#?}"
    );
    assert_eq!(
        count(&shown, "contact", |t| t == HOURS_QUESTION),
        1,
        "{shown:#?}"
    );
    assert_eq!(count(&shown, "bot", |t| t.contains("COD")), 1, "{shown:#?}");
    assert_eq!(
        count(&shown, "bot", |t| t.contains("9:00")),
        1,
        "{shown:#?}"
    );
    let state = widget_state(&browser).await;
    assert!(
        state["sessions"].as_u64() >= Some(3),
        "each reply should have come after a reconnect: {state}"
    );
    assert_eq!(state["shown"].as_u64(), Some(ids.len() as u64), "{state}");
    assert_eq!(state["last_seen_id"].as_u64(), ids.iter().max().copied());

    // None missing: a fresh page asks the server for the history, which must be exactly
    // what the widget showed across its reconnects.
    browser.client().refresh().await.expect("reload the page");
    browser.open_widget(CONNECT_TIMEOUT).await;
    let reloaded = bubbles(&browser).await;
    assert_eq!(
        assert_ids_unique(&reloaded),
        ids,
        "the stored history differs from what the widget showed"
    );
    browser.close().await;
}

#[tokio::test]
async fn over_long_message_shows_an_error_keeps_the_text_and_the_connection() {
    let (_one_browser, _shop, browser, root) = visit_demo_shop("").await;

    let settings = browser
        .client()
        .execute_async(
            "fetch('/v1/widget/may').then(r => r.json()).then(arguments[0]);",
            vec![],
        )
        .await
        .expect("GET /v1/widget/may");
    let max_chars = settings["max_text_chars"]
        .as_u64()
        .unwrap_or_else(|| panic!("no max_text_chars in {settings}"));
    let too_long = "a".repeat(max_chars as usize + 1);
    let input = root
        .find(Locator::Css("[data-testid=loa-input]"))
        .await
        .expect("the message input");
    // Typing 4,000 keys one by one would take a minute; the value goes in at once, the
    // Enter key is real.
    browser
        .client()
        .execute(
            &format!(
                "{WITH_ROOT} const input = root.querySelector('[data-testid=loa-input]');
                 input.value = arguments[0]; input.dispatchEvent(new Event('input'));"
            ),
            vec![json!(too_long)],
        )
        .await
        .expect("fill the input");
    input.send_keys(&Key::Enter).await.expect("pressing Enter");

    let error = browser
        .wait_until(
            "the text_too_long error",
            ANSWER_TIMEOUT,
            &format!(
                "{WITH_ROOT} const e = root.querySelector('[data-testid=loa-error]');
                 return !e.hidden && e.textContent;"
            ),
            vec![],
        )
        .await;
    assert!(
        error
            .as_str()
            .unwrap_or_default()
            .contains(&max_chars.to_string()),
        "the error names the limit: {error}"
    );
    assert_eq!(
        input
            .prop("value")
            .await
            .expect("the input's value")
            .as_deref(),
        Some(too_long.as_str()),
        "the visitor's text stays in the input"
    );
    assert!(
        bubbles(&browser).await.is_empty(),
        "no bubble for a refused message"
    );
    let state = widget_state(&browser).await;
    assert_eq!(state["connected"], true, "{state}");
    assert_eq!(state["sessions"], 1, "the same connection: {state}");

    input.clear().await.expect("clear the input");
    ask(&root, HOURS_QUESTION).await;
    let shown = wait_for_answer(&browser, "9:00").await;
    assert_ids_unique(&shown);
    assert_eq!(widget_state(&browser).await["sessions"], 1);
    browser.close().await;
}
