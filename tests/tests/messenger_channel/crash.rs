//! `loa serve` killed (SIGKILL) while a reply is on its way to Meta, then restarted on the
//! same data: the restarted host asks the plugin whether the reply arrived before sending
//! it again (`check-sent`), and the plugin reads the Page's conversation through the
//! Conversations API. A reply Meta took is found there and not sent twice; one Meta never
//! took is sent once. The same look-up settles a send Meta took but answered only after
//! the plugin gave up waiting (`in-doubt`).
use loa::delivery::dispatcher::ARRIVED_BEFORE_NOTE;

use super::*;

/// Longer than any test: the killed host never hears back from the stub.
const HELD: Duration = Duration::from_secs(120);

/// A lease and a few polls past the delivery: time for a second send, which must not come.
const AFTER_LEASE: Duration = Duration::from_millis(1500);

impl Page {
    /// Kills `loa serve` at once (SIGKILL) and starts it again on the same data.
    async fn crash_and_restart(&mut self) {
        self.server.crash_and_restart(self.data.path()).await;
    }

    /// The only delivery with its attempts, once it is `sent`.
    async fn sent_delivery(&self) -> Value {
        channels::only_sent_delivery(self.server.base_url(), &self.token, REPLY_TIMEOUT, || {
            self.server.stderr()
        })
        .await
    }
}

/// The paths of the Conversations API calls, in order.
fn lookup_paths(page: &Page) -> Vec<String> {
    let lookups = page.graph.lookups();
    for lookup in &lookups {
        assert_eq!(lookup.access_token.as_deref(), Some(PAGE_TOKEN));
        assert_eq!(lookup.status, 200, "{lookup:#?}");
    }
    lookups.into_iter().map(|lookup| lookup.path).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_meta_took_before_the_host_was_killed_is_found_and_not_sent_again() {
    let mut page = Page::start_with(channels::SHORT_LEASE_HOST_CONFIG).await;
    page.graph.fail_next(1, Fault::TakeAndHold(HELD));
    page.ask("PSID_KIM", "m_crash_taken", "shop có ship COD không?")
        .await;
    let taken = page.replies("PSID_KIM", 1).await;
    page.crash_and_restart().await;

    let delivery = page.sent_delivery().await;
    tokio::time::sleep(AFTER_LEASE).await;
    assert_eq!(
        page.sends().len(),
        1,
        "sent again: {:#?}",
        page.graph.requests()
    );
    assert_eq!(page.graph.delivered_to("PSID_KIM").len(), 1);
    let attempt = channels::only_attempt_after_restart(&delivery);
    assert_eq!(attempt["result"], "sent", "{delivery:#}");
    assert_eq!(attempt["provider_message_id"], json!(taken[0].message_id));
    let response = attempt["provider_response"].as_str().unwrap_or_default();
    assert!(response.starts_with(ARRIVED_BEFORE_NOTE), "{response}");

    // The conversation, its messages, then the details of the customer's question (the
    // closest to the send) and of the reply.
    let reply_id = taken[0].message_id.clone().unwrap_or_default();
    assert_eq!(
        lookup_paths(&page),
        [
            "/v21.0/me/conversations".to_owned(),
            "/v21.0/t_PSID_KIM".to_owned(),
            "/v21.0/m_crash_taken".to_owned(),
            format!("/v21.0/{reply_id}"),
        ]
    );
    let messages = page.messages().await;
    let outbound = messages
        .iter()
        .find(|message| message["direction"] == "outbound")
        .expect("the reply is stored");
    assert_eq!(
        outbound["channel_message_id"],
        json!(reply_id),
        "{outbound:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_meta_never_took_before_the_host_was_killed_is_sent_once_after_restart() {
    let mut page = Page::start_with(channels::SHORT_LEASE_HOST_CONFIG).await;
    page.graph.fail_next(1, Fault::Stall(HELD));
    page.ask("PSID_TAM", "m_crash_stalled", "shop có ship COD không?")
        .await;
    let deadline = Instant::now() + REPLY_TIMEOUT;
    while page.sends().is_empty() {
        assert!(
            Instant::now() < deadline,
            "no send\n{}",
            page.server.stderr()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    page.crash_and_restart().await;

    let replies = page.replies("PSID_TAM", 1).await;
    assert_eq!(replies[0].text(), Some(faq_answer("faq-01").as_str()));
    let delivery = page.sent_delivery().await;
    tokio::time::sleep(AFTER_LEASE).await;
    assert_eq!(page.graph.delivered_to("PSID_TAM").len(), 1);
    // The stalled send and the one after the restart.
    assert_eq!(page.sends().len(), 2, "{:#?}", page.graph.requests());
    let attempt = channels::only_attempt_after_restart(&delivery);
    assert_eq!(attempt["result"], "sent", "{delivery:#}");
    assert_eq!(attempt["provider_message_id"], json!(replies[0].message_id));
    let response = attempt["provider_response"].as_str().unwrap_or_default();
    assert!(!response.starts_with(ARRIVED_BEFORE_NOTE), "{response}");
    // It looked first and found only the question: missing, not unknown.
    assert_eq!(
        lookup_paths(&page),
        [
            "/v21.0/me/conversations",
            "/v21.0/t_PSID_TAM",
            "/v21.0/m_crash_stalled"
        ]
    );
    assert!(
        page.graph
            .lookups()
            .iter()
            .all(|lookup| lookup.at < replies[0].at)
    );
    let log = page.server.stderr();
    assert!(log.contains("did not arrive"), "not found missing:\n{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_meta_took_but_answered_too_late_is_found_and_not_sent_again() {
    let page = Page::start().await;
    // Taken at once, answered long after the plugin's 4 s wait for the Send API.
    page.graph.fail_next(1, Fault::TakeAndHold(HELD));
    page.ask("PSID_LY", "m_slow_meta", "shop có ship COD không?")
        .await;
    let taken = page.replies("PSID_LY", 1).await;

    let delivery = page.sent_delivery().await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(page.sends().len(), 1, "{:#?}", page.graph.requests());
    assert_eq!(page.graph.delivered_to("PSID_LY").len(), 1);
    let attempts = delivery["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 2, "{delivery:#}");
    assert_eq!(attempts[0]["result"], "in_doubt", "{delivery:#}");
    assert_eq!(attempts[1]["result"], "sent", "{delivery:#}");
    assert_eq!(
        attempts[1]["provider_message_id"],
        json!(taken[0].message_id)
    );
    let response = attempts[1]["provider_response"]
        .as_str()
        .unwrap_or_default();
    assert!(response.starts_with(ARRIVED_BEFORE_NOTE), "{response}");
}
