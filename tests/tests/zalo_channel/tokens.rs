//! The OA's access token: refreshed once when Zalo rejects it (-216), refreshed before a
//! send when it is about to expire, and its single-use refresh token spent once when two
//! sends need a refresh at the same time.

use super::*;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as u64)
        .unwrap_or_default()
}

/// The refresh went to Zalo's OAuth endpoint as documented: the app's secret in the
/// `secret_key` header, a form with the refresh token, the app id and the grant type.
fn assert_documented_refresh(refresh: &Recorded, refresh_token: &str) {
    assert_eq!(refresh.path, "/v4/oa/access_token");
    assert_eq!(refresh.secret_key.as_deref(), Some(APP_SECRET_KEY));
    assert_eq!(
        refresh.body,
        json!({"refresh_token": refresh_token, "app_id": APP_ID, "grant_type": "refresh_token"})
    );
    assert!(refresh.succeeded(), "{refresh:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_access_token_is_refreshed_once_and_the_reply_delivered() {
    let oa = Oa::start().await;
    oa.zalo.expire_access_tokens();
    oa.deliver(&text_event(LAN, "msg-expired-1", COD_QUESTION))
        .await;

    let replies = oa.replies(LAN, 1).await;
    assert_eq!(replies[0].text(), faq_answer("faq-01"));
    let (fresh_access, fresh_refresh) = oa.zalo.latest_pair();
    assert_eq!(
        replies[0].access_token.as_deref(),
        Some(fresh_access.as_str())
    );

    let requests = oa.zalo.requests();
    let endpoints: Vec<Endpoint> = requests.iter().map(|request| request.endpoint).collect();
    assert_eq!(
        endpoints,
        [Endpoint::Send, Endpoint::Refresh, Endpoint::Send],
        "{requests:#?}"
    );
    assert_eq!(requests[0].error, Some(-216));
    assert_eq!(requests[0].access_token.as_deref(), Some(ACCESS_TOKEN));
    assert_documented_refresh(&requests[1], REFRESH_TOKEN);
    assert_eq!(requests[0].body, requests[2].body, "the same message again");

    // The refreshed pair was kept: the next reply needs no refresh, and a later refresh
    // would spend the new refresh token.
    oa.deliver(&text_event(LAN, "msg-expired-2", "phí ship bao nhiêu?"))
        .await;
    let replies = oa.replies(LAN, 2).await;
    assert_eq!(
        replies[1].access_token.as_deref(),
        Some(fresh_access.as_str())
    );
    tokio::time::sleep(SETTLE).await;
    assert_eq!(oa.refreshes().len(), 1, "{:#?}", oa.zalo.requests());
    assert_ne!(fresh_refresh, REFRESH_TOKEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_about_to_expire_is_refreshed_before_the_send() {
    // The pasted token has a minute left: inside the plugin's five-minute margin.
    let expires_at = (now_ms() + 60_000).to_string();
    let oa = Oa::start_with(json!({"access_token_expires_at": expires_at})).await;
    oa.deliver(&text_event(LAN, "msg-soon-1", COD_QUESTION))
        .await;

    let replies = oa.replies(LAN, 1).await;
    let (fresh_access, _) = oa.zalo.latest_pair();
    assert_eq!(
        replies[0].access_token.as_deref(),
        Some(fresh_access.as_str())
    );
    let requests = oa.zalo.requests();
    let endpoints: Vec<Endpoint> = requests.iter().map(|request| request.endpoint).collect();
    assert_eq!(
        endpoints,
        [Endpoint::Refresh, Endpoint::Send],
        "{requests:#?}"
    );
    assert_documented_refresh(&requests[0], REFRESH_TOKEN);
    // The old token never reached the message API.
    assert!(
        oa.sends()
            .iter()
            .all(|send| send.access_token.as_deref() != Some(ACCESS_TOKEN))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_sends_needing_a_refresh_at_once_spend_the_refresh_token_once() {
    let oa = Oa::start().await;
    oa.zalo.expire_access_tokens();
    // A slow OAuth server: the second send meets the first one's refresh under way.
    let refresh_takes = Duration::from_millis(1500);
    oa.zalo.delay_refreshes(refresh_takes);
    let hoa = "1357924680135792468";
    oa.deliver(&text_event(LAN, "msg-both-1", COD_QUESTION))
        .await;
    oa.deliver(&text_event(hoa, "msg-both-2", "phí ship bao nhiêu?"))
        .await;

    let to_lan = oa.replies(LAN, 1).await;
    let to_hoa = oa.replies(hoa, 1).await;
    assert_eq!(to_lan[0].text(), faq_answer("faq-01"));
    assert_eq!(to_hoa[0].text(), faq_answer("faq-02"));
    tokio::time::sleep(SETTLE).await;

    let refreshes = oa.refreshes();
    assert_eq!(refreshes.len(), 1, "{:#?}", oa.zalo.requests());
    assert_documented_refresh(&refreshes[0], REFRESH_TOKEN);
    // Both sends went out with the old token before the refresh was answered: they
    // really needed it at the same time.
    let rejected: Vec<Recorded> = oa
        .sends()
        .into_iter()
        .filter(|send| send.error == Some(-216))
        .collect();
    assert_eq!(rejected.len(), 2, "{:#?}", oa.zalo.requests());
    let answered_at = refreshes[0].at + refresh_takes;
    assert!(rejected.iter().all(|send| send.at < answered_at));
    let (fresh_access, _) = oa.zalo.latest_pair();
    for reply in [&to_lan[0], &to_hoa[0]] {
        assert_eq!(reply.access_token.as_deref(), Some(fresh_access.as_str()));
    }
    assert_eq!(oa.zalo.delivered_to(LAN).len(), 1);
    assert_eq!(oa.zalo.delivered_to(hoa).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_refresh_token_is_given_up_at_once_telling_the_admin_to_reconnect() {
    // Someone else spent the pasted refresh token (another tool refreshing the same OA).
    let oa = Oa::start_with(json!({"access_token_expires_at": "1"})).await;
    oa.zalo.expire_access_tokens();
    let spend = spend_refresh_token_elsewhere(&oa.zalo.base_url).await;
    assert_eq!(spend.status, 200, "{}", spend.text());
    oa.deliver(&text_event(LAN, "msg-spent-1", COD_QUESTION))
        .await;

    oa.zalo
        .wait_for(REPLY_TIMEOUT, |requests| requests.len() >= 2)
        .await;
    tokio::time::sleep(SETTLE).await;
    let refreshes = oa.refreshes();
    assert_eq!(refreshes.len(), 2, "not retried: {:#?}", oa.zalo.requests());
    assert!(!refreshes[1].succeeded());
    assert!(oa.sends().is_empty(), "{:#?}", oa.sends());
    let log = oa.server.stderr();
    assert!(
        log.contains("dead letter") && log.contains("Reconnect the OA"),
        "no dead letter logged:\n{log}"
    );
    assert!(!log.contains(REFRESH_TOKEN), "a token in the log:\n{log}");
}

/// Spends the stub's pasted refresh token directly, as another tool would.
async fn spend_refresh_token_elsewhere(base_url: &str) -> Answer {
    let form = format!("refresh_token={REFRESH_TOKEN}&app_id={APP_ID}&grant_type=refresh_token");
    send(
        "POST",
        &format!("{base_url}/v4/oa/access_token"),
        &[
            ("secret_key", APP_SECRET_KEY),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        form.into_bytes(),
    )
    .await
}
