//! Replies out through the customer-service message API: the rendered parts sent in order
//! with the OA's token (refreshed once when Zalo rejects it), within the call's time, and
//! a reply sent in parts resumed where a failed call left it.

use std::time::Duration;

use loa_sdk::http::Request;
use loa_sdk::progress::{self, Progress};
use loa_sdk::serde_json::{Value, json};
use loa_sdk::{DeliveryError, DeliveryReceipt, TransientFailure, clock, log};

use crate::answer::{self, Accepted, Refused};
use crate::credentials::Credentials;
use crate::token::TokenRecord;
use crate::{MAX_ANSWER_BYTES, MIN_REQUEST_MS, REQUEST_TIMEOUT_MS};

/// Sends `parts` in order with the OA's token, resuming a half-sent message recorded
/// under `key`; a rejected access token is refreshed, and the part sent again, once.
pub fn send_parts(
    url: &str,
    user: &str,
    parts: &[Value],
    key: &str,
    credentials: &Credentials,
) -> Result<DeliveryReceipt, DeliveryError> {
    let several = parts.len() > 1;
    let fingerprint = progress::fingerprint(user, parts);
    let mut progress = if several {
        Progress::resume(progress::load(key), fingerprint, clock::now_ms())
    } else {
        Progress::start(fingerprint)
    };
    if progress.sent > 0 {
        log::info(
            "resuming a reply sent in parts",
            &[
                ("sent", &progress.sent.to_string()),
                ("parts", &parts.len().to_string()),
            ],
        );
    }
    let failed = |error: DeliveryError, progress: &Progress| {
        // A retry resumes from the record; after a permanent failure none comes.
        if several && matches!(error, DeliveryError::Permanent(_)) {
            progress::forget(key);
        }
        error.with_parts_sent(progress.sent, parts.len())
    };
    let mut token = credentials
        .current()
        .map_err(|error| failed(error, &progress))?;
    let mut refreshed = false;
    for part in parts.iter().skip(progress.sent) {
        let accepted = loop {
            let left = credentials.deadline_ms.saturating_sub(clock::now_ms());
            if left < MIN_REQUEST_MS {
                return Err(failed(
                    DeliveryError::Transient(TransientFailure {
                        reason: "this call's time ran out; the retry sends the rest".into(),
                        retry_after_ms: None,
                    }),
                    &progress,
                ));
            }
            match post_part(url, &token, user, part, left.min(REQUEST_TIMEOUT_MS)) {
                Ok(accepted) => break accepted,
                Err(Refused::AccessToken(reason)) if !refreshed => {
                    log::info(
                        "Zalo rejected the access token; refreshing",
                        &[("answer", &reason)],
                    );
                    refreshed = true;
                    token = credentials
                        .after_rejection(&token)
                        .map_err(|error| failed(error, &progress))?;
                }
                Err(Refused::AccessToken(reason)) => {
                    let error = DeliveryError::Permanent(format!(
                        "{reason}, even with a freshly refreshed token: check that the \
                         channel's app_id, access_token and refresh_token belong to this OA, \
                         or reconnect the OA"
                    ));
                    return Err(failed(error, &progress));
                }
                Err(Refused::Delivery(error)) => return Err(failed(error, &progress)),
            }
        };
        progress.record(accepted.message_id, accepted.raw, clock::now_ms());
        if several && progress.sent < parts.len() {
            progress::save(key, &progress);
        }
    }
    if several {
        progress::forget(key);
    }
    Ok(progress.receipt())
}

/// One customer-service call with one `message` object.
fn post_part(
    url: &str,
    token: &TokenRecord,
    user: &str,
    part: &Value,
    timeout_ms: u64,
) -> Result<Accepted, Refused> {
    let body = json!({"recipient": {"user_id": user}, "message": part});
    let response = Request::post(url)
        .header("access_token", &token.access_token)
        .header("accept", "application/json")
        .json(&body)
        .timeout(Duration::from_millis(timeout_ms))
        .max_response_bytes(MAX_ANSWER_BYTES)
        .send()
        .map_err(|error| {
            let failure = answer::transport_failure("sending to Zalo", &error);
            Refused::Delivery(failure.in_doubt_if(error.may_have_arrived()))
        })?;
    answer::interpret(
        response.status,
        &response.body,
        response.header("retry-after"),
    )
}
