//! Nothing lost across two `kill -9`s under load, and nothing sent twice where the provider
//! can say what it got: the demo shop with a Zalo OA, a Messenger and a Telegram channel
//! pointed at their stubs gets 5,000 signed FAQ questions (some resent, as providers do) at about
//! 1,000 a second from the open-loop generator ([`loa_e2e::load`]), while `loa serve` is
//! killed twice and restarted on the same data. Every distinct question must get a reply
//! at the stubs, which record every send, and none may get two. A send the kill interrupted
//! is looked up before it is sent again (`check-sent`): in the provider's conversation
//! history on Zalo and Messenger (`/v2.0/oa/conversation`, the Conversations API); on
//! Telegram, whose Bot API keeps no history a bot can read, by trying the chat's message
//! ids after the customer's question with `editMessageText` and the reply's own text
//! (`plugins/telegram/src/probe.rs`). So the Telegram stub numbers messages as Telegram
//! does (one counter for everything the bot sends and receives in its private chats), each
//! update's `message_id` is taken from that counter when the update is first posted (its
//! retries and resends carry the same id), and no try may change a message. Once on SQLite, once on PostgreSQL. Prints
//! `lost=N duplicated=M` (and per channel) and the run's figures (`--nocapture`).
//!
//! `LOA_CRASH_EVENTS` changes the number of distinct events (default 5,000); the rate and
//! the kill times stay, so fewer events crash fewer of them.

// Shared with the host's store tests (one throwaway server helper, not two).
#[path = "../../host/tests/common/postgres.rs"]
mod postgres;

#[path = "crash_delivery/diagnosis.rs"]
mod diagnosis;

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use loa_e2e::accounts::{DEMO_OWNER, admin_config, create_user, login};
use loa_e2e::load::{self, LoadConfig, Target, Webhook};
use loa_e2e::serve::Server;
use loa_e2e::stubs::messenger::GraphApi;
use loa_e2e::stubs::telegram::TelegramApi;
use loa_e2e::stubs::zalo::{Endpoint, ZaloApi};
use loa_e2e::{channels, finish, http, loa, workspace_root};
use serde_json::{Value, json};

const TG_CHANNEL: &str = "tg-may";
const BOT_TOKEN: &str = "123456789:AAE-load_stub-token";
const WEBHOOK_SECRET: &str = "tg-load_secret";
const FB_CHANNEL: &str = "fb-may";
const PAGE_ID: &str = "1029384756";
const PAGE_TOKEN: &str = "EAAGloadpagetoken";
const APP_SECRET: &str = "load-app-secret";
const ZALO_CHANNEL: &str = "zalo-may";
const ZALO_APP_ID: &str = "1234567890123456789";
const ZALO_OA_ID: &str = "579135246801357924";
const ZALO_OA_SECRET_KEY: &str = "load-oa-secret-key";
const ZALO_APP_SECRET_KEY: &str = "load-app-secret-key";
const ZALO_ACCESS_TOKEN: &str = "zalo-at-load";
const ZALO_REFRESH_TOKEN: &str = "zalo-rt-load";

/// Questions the fast path answers from the demo FAQ with one message each, by FAQ id.
const QUESTIONS: [(&str, &str); 5] = [
    ("faq-01", "shop có ship COD không?"),
    ("faq-02", "phí ship bao nhiêu?"),
    ("faq-03", "giao hàng mất bao lâu?"),
    ("faq-15", "Xem bảng size ở đâu?"),
    ("faq-31", "Cửa hàng mở cửa mấy giờ?"),
];
const RATE_PER_SEC: f64 = 1000.0;
/// Every 20th event is posted a second time, 50 posts (50 ms) later.
const RESEND_EVERY: usize = 20;
const RESEND_LAG: usize = 50;
/// When the two kills land, from the start of the load.
const KILLS_AT: [Duration; 2] = [Duration::from_millis(1500), Duration::from_millis(3500)];
/// Replies still missing this long after the load ended fail the test.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(120);

/// Webhooks unthrottled (the default 100/s per channel would refuse most of the load);
/// plugins may reach the stubs on loopback; the events and replies a killed host held are
/// taken over 3 s / 5 s after the kill instead of 15 s; failed sends come back within a
/// second. A send (deadline 4 s) always ends before its 5 s lease, so a live dispatcher
/// never sees its own row leased again. At most `concurrency` (64, the default, named for
/// [`DUPLICATES_BOUND`]) sends are in flight at once.
const HOST_CONFIG: &str = "webhook_per_channel_per_minute = 0\n\n\
    [plugins]\nallow_private_network = true\nchannel_timeout_ms = 4000\n\n\
    [pipeline]\nlease_secs = 3\npoll_ms = 100\n\n\
    [delivery]\nconcurrency = 64\nlease_secs = 5\npoll_ms = 100\n\n\
    [delivery.retry]\nmax_attempts = 20\nbase_delay_ms = 200\nmax_delay_ms = 1000\n";

/// Which store `loa serve` runs on.
enum Database {
    Sqlite,
    Postgres(postgres::TestDatabase),
}

/// The demo shop's data, its owner's password and the store it lives in.
struct Shop {
    data: tempfile::TempDir,
    database: Database,
    password: String,
}

impl Shop {
    async fn create(database: Database) -> Shop {
        let data = tempfile::tempdir().expect("temp dir");
        std::fs::write(data.path().join("loa.toml"), admin_config(HOST_CONFIG))
            .expect("write loa.toml");
        let mut shop = Shop {
            data,
            database,
            password: String::new(),
        };
        finish(
            shop.command()
                .args(["tenant", "apply"])
                .arg(workspace_root().join("samples/demo-shop/shop.toml")),
        )
        .success();
        shop.password = create_user(shop.command(), DEMO_OWNER, "may", "owner");
        let telegram = workspace_root().join("plugins/telegram");
        assert!(
            telegram.join("plugin.wasm").is_file(),
            "plugins/telegram: run `cargo xtask build-plugins` first"
        );
        finish(shop.command().args(["plugin", "install"]).arg(telegram)).success();
        for plugin in ["messenger", "zalo-oa"] {
            let plugin = channels::plugin_for_loopback(shop.data.path(), plugin);
            finish(shop.command().args(["plugin", "install"]).arg(plugin)).success();
        }
        shop
    }

    /// `loa` on this shop's data (and database).
    fn command(&self) -> Command {
        let mut command = loa(self.data.path());
        if let Database::Postgres(database) = &self.database {
            command.arg("--database-url").arg(&database.url);
        }
        command
    }

    fn serve(&self) -> Server {
        match &self.database {
            Database::Sqlite => Server::start(self.data.path(), std::iter::empty::<&str>()),
            Database::Postgres(database) => {
                Server::start(self.data.path(), ["--database-url", database.url.as_str()])
            }
        }
    }
}

/// One distinct event: who asked which question where. Its reply goes to `recipient`
/// (a Telegram chat id, a PSID, a Zalo user id) with the text of FAQ answer `question`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Asked {
    channel: &'static str,
    recipient: String,
    question: usize,
}

/// `count` distinct events, Telegram, Messenger and Zalo in turn; on each channel,
/// customers ask the questions one after the other, a customer's next question coming
/// after every other customer of the channel asked (so turns spread over many
/// conversations). A Telegram message takes its id from `telegram_numbering` (the stub's
/// one counter of the bot's private chats) when its update is first posted.
fn events(
    count: usize,
    telegram_numbering: &Arc<dyn Fn(i64) -> i64 + Send + Sync>,
) -> Vec<(Asked, Webhook)> {
    let per_channel = count.div_ceil(3);
    let customers = per_channel.div_ceil(QUESTIONS.len());
    (0..count)
        .map(|index| {
            let serial = index / 3;
            let (customer, question) = (serial % customers, serial / customers);
            let text = QUESTIONS[question].1;
            if index % 3 == 2 {
                let user = format!(
                    "{}",
                    8_100_000_000_u64 + u64::try_from(customer).expect("small")
                );
                let msg_id = format!("zalo-load-{serial}");
                let webhook = load::zalo_text(
                    ZALO_CHANNEL,
                    (ZALO_APP_ID, ZALO_OA_SECRET_KEY),
                    ZALO_OA_ID,
                    &user,
                    &msg_id,
                    text,
                );
                let asked = Asked {
                    channel: ZALO_CHANNEL,
                    recipient: user,
                    question,
                };
                (asked, webhook)
            } else if index % 3 == 0 {
                let chat = 700_000 + i64::try_from(customer).expect("small");
                let update_id = i64::try_from(serial).expect("small") + 1;
                let numbering = Arc::clone(telegram_numbering);
                let webhook = load::telegram_update_numbered_by(
                    TG_CHANNEL,
                    WEBHOOK_SECRET,
                    update_id,
                    chat,
                    text,
                    move || numbering(chat),
                );
                let asked = Asked {
                    channel: TG_CHANNEL,
                    recipient: chat.to_string(),
                    question,
                };
                (asked, webhook)
            } else {
                let psid = format!("PSID_{customer}");
                let mid = format!("m_load_{serial}");
                let webhook =
                    load::messenger_message(FB_CHANNEL, APP_SECRET, PAGE_ID, &psid, &mid, text);
                let asked = Asked {
                    channel: FB_CHANNEL,
                    recipient: psid,
                    question,
                };
                (asked, webhook)
            }
        })
        .collect()
}

/// The demo FAQ's answers to [`QUESTIONS`], in that order.
fn answers() -> Vec<String> {
    let faq = std::fs::read_to_string(workspace_root().join("samples/demo-shop/faq.jsonl"))
        .expect("the demo FAQ");
    let entries: Vec<Value> = faq
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    QUESTIONS
        .iter()
        .map(|(id, _)| {
            entries
                .iter()
                .find(|entry| entry["id"] == *id)
                .and_then(|entry| entry["answer"].as_str())
                .unwrap_or_else(|| panic!("no FAQ entry {id}"))
                .to_owned()
        })
        .collect()
}

/// One reply a stub accepted: the event it answers (`Err` with what it was when it
/// answers none: an unknown recipient or text), and when the stub took it.
struct Reply {
    answers: Result<Asked, String>,
    at: Instant,
}

/// The restarted hosts' `editMessageText` tries at the Telegram stub.
struct TelegramTries {
    made: usize,
    /// The most tries in one chat (a look-up gives up after `probe::MAX_TRIES`).
    most_for_one_chat: usize,
    /// Answered "message is not modified": the reply was there.
    found: usize,
    /// Accepted: a message was changed.
    edited: usize,
}

impl TelegramTries {
    fn of(telegram: &TelegramApi) -> Self {
        let tries = telegram.calls_of("editMessageText");
        let answered = |status: u16, says: &str| {
            tries
                .iter()
                .filter(|call| {
                    call.status == status
                        && call
                            .description
                            .as_deref()
                            .is_some_and(|d| d.contains(says))
                })
                .count()
        };
        let mut per_chat = std::collections::HashMap::<String, usize>::new();
        for call in &tries {
            *per_chat.entry(call.chat().unwrap_or_default()).or_default() += 1;
        }
        Self {
            most_for_one_chat: per_chat.into_values().max().unwrap_or(0),
            made: tries.len(),
            found: answered(400, "message is not modified"),
            edited: tries.iter().filter(|call| call.accepted()).count(),
        }
    }
}

/// The three providers' stubs.
struct Providers {
    telegram: TelegramApi,
    graph: GraphApi,
    zalo: ZaloApi,
}

/// Every reply the stubs accepted.
fn replies(providers: &Providers, answers: &[String]) -> Vec<Reply> {
    let Providers {
        telegram,
        graph,
        zalo,
    } = providers;
    let question_of = |text: &str| answers.iter().position(|answer| answer == text);
    let sent_to_telegram = telegram
        .calls_of("sendMessage")
        .into_iter()
        .filter(|call| call.accepted())
        .map(|call| {
            let chat = &call.body["chat_id"];
            let recipient = chat
                .as_str()
                .map_or_else(|| chat.to_string(), str::to_owned);
            (TG_CHANNEL, recipient, call.text().to_owned(), call.at)
        });
    let sent_to_messenger = graph
        .requests()
        .into_iter()
        .filter(|request| request.message_id.is_some())
        .map(|request| {
            let recipient = request.recipient().unwrap_or_default().to_owned();
            let text = request.text().unwrap_or_default().to_owned();
            (FB_CHANNEL, recipient, text, request.at)
        });
    let sent_to_zalo = zalo
        .calls_to(Endpoint::Send)
        .into_iter()
        .filter(|request| request.message_id.is_some())
        .map(|request| {
            let recipient = request.user_id().unwrap_or_default().to_owned();
            (
                ZALO_CHANNEL,
                recipient,
                request.text().to_owned(),
                request.at,
            )
        });
    sent_to_telegram
        .chain(sent_to_messenger)
        .chain(sent_to_zalo)
        .map(|(channel, recipient, text, at)| Reply {
            answers: match question_of(&text) {
                Some(question) => Ok(Asked {
                    channel,
                    recipient,
                    question,
                }),
                None => Err(format!("{channel} → {recipient}: {text}")),
            },
            at,
        })
        .collect()
}

/// Replies per distinct event.
fn reply_counts(asked: &[Asked], replies: &[Reply]) -> HashMap<Asked, usize> {
    let mut counts: HashMap<Asked, usize> = asked.iter().map(|asked| (asked.clone(), 0)).collect();
    for reply in replies {
        if let Some(count) = reply
            .answers
            .as_ref()
            .ok()
            .and_then(|asked| counts.get_mut(asked))
        {
            *count += 1;
        }
    }
    counts
}

/// `/readyz`'s queue depths: (inbox, outbox, dead), or `None` while the server is down.
async fn queues(base_url: &str) -> Option<(u64, u64, u64)> {
    let (status, body) = http::request("GET", &format!("{base_url}/readyz"), "").await;
    let queues = &body["queues"];
    (status == 200).then(|| {
        let depth = |name: &str| queues[name].as_u64().unwrap_or(u64::MAX);
        (depth("inbox"), depth("outbox"), depth("dead"))
    })
}

/// Kills `server` (SIGKILL) and starts it again on the same data, off the async threads.
async fn crash_and_restart(shop: &Arc<Shop>, mut server: Server) -> Server {
    let shop = Arc::clone(shop);
    tokio::task::spawn_blocking(move || {
        server.crash();
        shop.serve()
    })
    .await
    .expect("restart")
}

async fn crash_twice_under_load(database: Database, store: &str) {
    let count: usize = std::env::var("LOA_CRASH_EVENTS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(5000);
    // One load at a time: the two stores' tests would otherwise share the two cores.
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = ONE_AT_A_TIME.lock().await;
    let test_started = Instant::now();
    // Built before the clock starts for the shop (`cargo test --workspace --no-run`).
    tokio::task::spawn_blocking(loa_e2e::loa_binary)
        .await
        .expect("the loa binary");
    let built = test_started.elapsed();
    let clock = diagnosis::Clock::start();
    let shop = Arc::new(Shop::create(database).await);
    let mut server = shop.serve();
    let token = login(server.base_url(), DEMO_OWNER, &shop.password)
        .await
        .access;
    let telegram = TelegramApi::start(BOT_TOKEN).await;
    let graph = GraphApi::start(PAGE_TOKEN).await;
    let zalo = ZaloApi::start(
        ZALO_APP_ID,
        ZALO_APP_SECRET_KEY,
        ZALO_ACCESS_TOKEN,
        ZALO_REFRESH_TOKEN,
    )
    .await;
    let tg_secrets = json!({
        "bot_token": BOT_TOKEN,
        "webhook_secret": WEBHOOK_SECRET,
        "api_base_url": telegram.base_url,
    });
    channels::connect(
        server.base_url(),
        &token,
        "telegram",
        TG_CHANNEL,
        tg_secrets,
    )
    .await;
    let fb_secrets = json!({
        "page_access_token": PAGE_TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": "load-verify",
        "api_base_url": graph.base_url,
    });
    channels::connect(
        server.base_url(),
        &token,
        "messenger",
        FB_CHANNEL,
        fb_secrets,
    )
    .await;
    let zalo_secrets = json!({
        "app_id": ZALO_APP_ID,
        "oa_secret_key": ZALO_OA_SECRET_KEY,
        "app_secret_key": ZALO_APP_SECRET_KEY,
        "access_token": ZALO_ACCESS_TOKEN,
        "refresh_token": ZALO_REFRESH_TOKEN,
        "api_base_url": zalo.base_url,
        "oauth_base_url": zalo.base_url,
        "zns_base_url": zalo.base_url,
    });
    channels::connect(
        server.base_url(),
        &token,
        "zalo-oa",
        ZALO_CHANNEL,
        zalo_secrets,
    )
    .await;
    let providers = Providers {
        telegram,
        graph,
        zalo,
    };
    let setup = test_started.elapsed() - built;

    let telegram_numbering: Arc<dyn Fn(i64) -> i64 + Send + Sync> =
        Arc::new(providers.telegram.numbering());
    let (asked, webhooks): (Vec<Asked>, Vec<Webhook>) =
        events(count, &telegram_numbering).into_iter().unzip();
    let posts = load::with_resends(webhooks, RESEND_EVERY, RESEND_LAG);
    let post_count = posts.len();
    let target = Target::new(server.base_url());
    let started = Instant::now();
    let generator = tokio::spawn({
        let target = target.clone();
        async move { load::run(&target, posts, LoadConfig::at_rate(RATE_PER_SEC)).await }
    });
    let mut restarts = Vec::new();
    let mut killed_at_ms = Vec::new();
    for kill_at in KILLS_AT {
        tokio::time::sleep_until((started + kill_at).into()).await;
        let killed = started.elapsed();
        killed_at_ms.push(clock.epoch_ms(Instant::now()));
        server = crash_and_restart(&shop, server).await;
        target.set_base_url(server.base_url());
        restarts.push(format!(
            "killed at {killed:.2?}, back at {:.2?}",
            started.elapsed()
        ));
    }
    let report = generator.await.expect("the load generator");
    let load_ended = started.elapsed();

    // Drained: every event answered, and nothing left in the inbox or the outbox.
    let answers = answers();
    let drain_started = Instant::now();
    let (counts, sent, depths) = loop {
        let sent = replies(&providers, &answers);
        let counts = reply_counts(&asked, &sent);
        let depths = queues(server.base_url()).await;
        let answered = counts.values().all(|&count| count > 0);
        let drained = answered && matches!(depths, Some((0, 0, _)));
        if drained || drain_started.elapsed() > DRAIN_TIMEOUT {
            break (counts, sent, depths);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let lost: Vec<&Asked> = counts
        .iter()
        .filter(|(_, count)| **count == 0)
        .map(|(asked, _)| asked)
        .collect();
    let duplicated_on = |channel: &str| -> usize {
        counts
            .iter()
            .filter(|(asked, _)| asked.channel == channel)
            .map(|(_, count)| count.saturating_sub(1))
            .sum()
    };
    let (duplicated_telegram, duplicated_messenger, duplicated_zalo) = (
        duplicated_on(TG_CHANNEL),
        duplicated_on(FB_CHANNEL),
        duplicated_on(ZALO_CHANNEL),
    );
    let duplicated = duplicated_telegram + duplicated_messenger + duplicated_zalo;
    let unexpected: Vec<&String> = sent
        .iter()
        .filter_map(|reply| reply.answers.as_ref().err())
        .collect();
    let latencies = report.ack_latencies();
    println!(
        "crash_delivery[{store}]: events={count} posts={post_count} acked={} resends={} \
         (last failures: {:?}); build {built:.2?}, setup {setup:.2?}, load {load_ended:.2?} ({}), \
         ack latency p50 {:.1?} p99 {:.1?} max {:.1?}; drained {:.2?} after the load; \
         queues (inbox, outbox, dead) {depths:?}; test {:.2?}",
        report.acked(),
        report.resends(),
        report.failure_reasons(),
        restarts.join(", "),
        load::percentile(&latencies, 0.5),
        load::percentile(&latencies, 0.99),
        load::percentile(&latencies, 1.0),
        drain_started.elapsed(),
        test_started.elapsed(),
    );
    let outbox = diagnosis::outbox_totals(&shop.database, shop.data.path()).await;
    println!(
        "crash_delivery[{store}]: lost={} duplicated={duplicated} \
         (zalo {duplicated_zalo}, messenger {duplicated_messenger}, telegram {duplicated_telegram})",
        lost.len()
    );
    println!(
        "crash_delivery[{store}]: outbox rows={} attempts={} logged attempts={} (unrecorded: {})",
        outbox.rows,
        outbox.attempts,
        outbox.logged,
        outbox.unrecorded_attempts()
    );
    let tries = TelegramTries::of(&providers.telegram);
    println!(
        "crash_delivery[{store}]: telegram look-ups: {} editMessageText tries (at most {} in \
         one chat), {} replies found in their chat, {} messages changed",
        tries.made, tries.most_for_one_chat, tries.found, tries.edited
    );
    if duplicated > 0 {
        explain_duplicates(&shop, &server, &counts, &sent, clock, &killed_at_ms).await;
    }

    let unacked: Vec<_> = report
        .posts
        .iter()
        .filter(|post| !post.acked)
        .take(5)
        .collect();
    assert!(
        unacked.is_empty(),
        "posts never acknowledged: {unacked:#?}\n{}",
        server.stderr()
    );
    assert!(
        unexpected.is_empty(),
        "replies to no event: {unexpected:#?}"
    );
    assert!(
        lost.is_empty(),
        "{} events never answered, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    let twice: Vec<(&Asked, &usize)> = counts
        .iter()
        .filter(|(_, count)| **count > 1)
        .take(5)
        .collect();
    // One reply row per event: a replayed turn never wrote a second one.
    assert_eq!(outbox.rows, count as u64, "outbox rows per event");
    // The providers told the restarted host which interrupted sends arrived.
    assert_eq!(
        (duplicated_zalo, duplicated_messenger, duplicated_telegram),
        (0, 0, 0),
        "replies sent twice, e.g. {twice:?}"
    );
    assert_eq!(tries.edited, 0, "a look-up try changed a message");
    drop(server);
    if let Some(Shop {
        database: Database::Postgres(database),
        ..
    }) = Arc::into_inner(shop)
    {
        database.finish().await;
    }
}

/// Prints, for a few events answered more than once, when the stub took each reply and
/// the store's outbox rows and delivery log for the customer, with the kill times.
async fn explain_duplicates(
    shop: &Shop,
    server: &Server,
    counts: &HashMap<Asked, usize>,
    sent: &[Reply],
    clock: diagnosis::Clock,
    killed_at_ms: &[i64],
) {
    let mut twice: Vec<&Asked> = counts
        .iter()
        .filter(|(_, count)| **count > 1)
        .map(|(asked, _)| asked)
        .collect();
    twice.sort_by(|a, b| (a.channel, &a.recipient).cmp(&(b.channel, &b.recipient)));
    twice.truncate(8);
    println!("kills at (ms since the epoch): {killed_at_ms:?}");
    let log = server.stderr();
    for asked in twice {
        let taken: Vec<i64> = sent
            .iter()
            .filter(|reply| reply.answers.as_ref() == Ok(asked))
            .map(|reply| clock.epoch_ms(reply.at))
            .collect();
        let history = diagnosis::outbox_history(
            &shop.database,
            shop.data.path(),
            std::slice::from_ref(&asked.recipient),
        )
        .await;
        println!("{asked:?}: stub took replies at {taken:?}\n{history}");
        let outbox_ids: std::collections::BTreeSet<&str> = history
            .lines()
            .skip(1)
            .filter_map(|line| line.split(" | ").next())
            .collect();
        for id in outbox_ids {
            for line in diagnosis::log_lines_about(&log, id) {
                println!("  log: {line}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_kills_under_load_lose_nothing_and_send_nothing_twice_on_sqlite() {
    crash_twice_under_load(Database::Sqlite, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_kills_under_load_lose_nothing_and_send_nothing_twice_on_postgres() {
    let database = postgres::TestDatabase::create().await;
    crash_twice_under_load(Database::Postgres(database), "postgres").await;
}
