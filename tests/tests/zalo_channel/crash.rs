//! `loa serve` killed (SIGKILL) while a reply is on its way to Zalo, then restarted on the
//! same data: the restarted host asks the plugin whether the reply arrived before sending
//! it again (`check-sent`), and the plugin reads Zalo's conversation history. A reply Zalo
//! took is found there and not sent twice; one Zalo never took is sent once.

use loa::delivery::dispatcher::ARRIVED_BEFORE_NOTE;

use super::*;

/// Longer than the test: the killed host never hears back from the stub.
const HELD: Duration = Duration::from_secs(120);

/// A lease and some polls: time enough for a second send, which must not come.
const AFTER_LEASE: Duration = Duration::from_millis(1500);

impl Oa {
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

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_zalo_took_before_the_host_was_killed_is_found_and_not_sent_again() {
    let mut oa = Oa::launch(channels::SHORT_LEASE_HOST_CONFIG, json!({})).await;
    oa.zalo.fail_next(1, Fault::TakeAndHold(HELD));
    oa.deliver(&text_event(LAN, "msg-crash-taken", COD_QUESTION))
        .await;
    let taken = oa.replies(LAN, 1).await;
    oa.crash_and_restart().await;

    let delivery = oa.sent_delivery().await;
    tokio::time::sleep(AFTER_LEASE).await;
    assert_eq!(oa.sends().len(), 1, "sent again: {:#?}", oa.zalo.requests());
    assert_eq!(oa.zalo.delivered_to(LAN).len(), 1);
    let attempt = channels::only_attempt_after_restart(&delivery);
    assert_eq!(attempt["result"], "sent", "{delivery:#}");
    assert_eq!(attempt["provider_message_id"], json!(taken[0].message_id));
    let response = attempt["provider_response"].as_str().unwrap_or_default();
    assert!(response.starts_with(ARRIVED_BEFORE_NOTE), "{response}");

    // The restarted host looked the reply up once, in this user's conversation.
    let reads = oa.zalo.calls_to(Endpoint::Conversation);
    assert_eq!(reads.len(), 1, "{reads:#?}");
    assert_eq!(reads[0].access_token.as_deref(), Some(ACCESS_TOKEN));
    assert_eq!(reads[0].body["user_id"].to_string(), LAN);
    assert_eq!(reads[0].error, Some(0));
    // The stored reply carries the id Zalo gave the copy it took.
    let messages = oa.messages().await;
    let outbound = messages
        .iter()
        .find(|message| message["direction"] == "outbound")
        .expect("the reply is stored");
    assert_eq!(outbound["channel_message_id"], json!(taken[0].message_id));

    // What the plugin read: the reply as Zalo lists it; and the stub refuses as Zalo does.
    let read = |data: &str, token: &str| {
        let url = format!(
            "{}/v2.0/oa/conversation?data={}",
            oa.zalo.base_url,
            data.replace('"', "%22")
        );
        let token = token.to_owned();
        async move { send("GET", &url, &[("access_token", &token)], Vec::new()).await }
    };
    let page = read(
        &format!(r#"{{"user_id":{LAN},"offset":0,"count":10}}"#),
        ACCESS_TOKEN,
    )
    .await;
    assert_eq!(page.json["error"], 0, "{}", page.text());
    let listed = &page.json["data"][0];
    assert_eq!(listed["src"], 0, "{listed:#}");
    assert_eq!(listed["type"], "text");
    assert_eq!(listed["message"], faq_answer("faq-01"));
    assert_eq!(listed["message_id"], json!(taken[0].message_id));
    let too_many = read(
        &format!(r#"{{"user_id":{LAN},"offset":0,"count":11}}"#),
        ACCESS_TOKEN,
    );
    assert_eq!(too_many.await.json["error"], -201);
    let forged = read(
        &format!(r#"{{"user_id":{LAN},"offset":0,"count":5}}"#),
        "forged",
    );
    assert_eq!(forged.await.json["error"], -216);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_zalo_never_took_before_the_host_was_killed_is_sent_once_after_restart() {
    let mut oa = Oa::launch(channels::SHORT_LEASE_HOST_CONFIG, json!({})).await;
    oa.zalo.fail_next(1, Fault::Stall(HELD));
    oa.deliver(&text_event(LAN, "msg-crash-stalled", COD_QUESTION))
        .await;
    oa.zalo
        .wait_for(REPLY_TIMEOUT, |requests| {
            requests.iter().any(|r| r.endpoint == Endpoint::Send)
        })
        .await;
    oa.crash_and_restart().await;

    let replies = oa.replies(LAN, 1).await;
    assert_eq!(replies[0].text(), faq_answer("faq-01"));
    let delivery = oa.sent_delivery().await;
    tokio::time::sleep(AFTER_LEASE).await;
    assert_eq!(
        oa.zalo.delivered_to(LAN).len(),
        1,
        "{:#?}",
        oa.zalo.requests()
    );
    // The stalled send and the one after the restart.
    assert_eq!(oa.sends().len(), 2, "{:#?}", oa.zalo.requests());
    let attempt = channels::only_attempt_after_restart(&delivery);
    assert_eq!(attempt["result"], "sent", "{delivery:#}");
    assert_eq!(attempt["provider_message_id"], json!(replies[0].message_id));
    let response = attempt["provider_response"].as_str().unwrap_or_default();
    assert!(!response.starts_with(ARRIVED_BEFORE_NOTE), "{response}");
    // It looked first, found nothing, and sent.
    let reads = oa.zalo.calls_to(Endpoint::Conversation);
    assert_eq!(reads.len(), 1, "{reads:#?}");
    assert!(reads[0].at < replies[0].at);
}
