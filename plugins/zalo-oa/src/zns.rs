//! Template messages out through ZNS (`POST /message/template`), to a phone number rather
//! than a follower: one call with the OA's token, refreshed once when ZNS rejects it.

use std::time::Duration;

use loa_sdk::http::Request;
use loa_sdk::serde_json::{Value, json};
use loa_sdk::{DeliveryError, DeliveryReceipt, TemplateMessage, clock, log};

use crate::answer::{self, Refused};
use crate::settings::Settings;
use crate::{MAX_ANSWER_BYTES, MIN_REQUEST_MS, REQUEST_TIMEOUT_MS};

/// Sends `template` to its phone number through ZNS.
pub fn send_template(template: TemplateMessage) -> Result<DeliveryReceipt, DeliveryError> {
    let started = clock::now_ms();
    let settings = Settings::load().map_err(DeliveryError::Permanent)?;
    let credentials = settings.credentials(&template.channel_id, &template.tracking_id, started);
    let url = format!("{}/message/template", settings.zns_base_url);
    let data: serde_json::Map<String, Value> = template
        .params
        .iter()
        .map(|(name, value)| (name.clone(), Value::String(value.clone())))
        .collect();
    let body = json!({
        "phone": template.recipient,
        "template_id": template.template_id,
        "template_data": data,
        "tracking_id": template.tracking_id,
    });
    let mut token = credentials.current()?;
    let mut refreshed = false;
    loop {
        let left = credentials.deadline_ms.saturating_sub(clock::now_ms());
        let response = Request::post(&url)
            .header("access_token", &token.access_token)
            .header("accept", "application/json")
            .json(&body)
            .timeout(Duration::from_millis(
                left.clamp(MIN_REQUEST_MS, REQUEST_TIMEOUT_MS),
            ))
            .max_response_bytes(MAX_ANSWER_BYTES)
            .send()
            .map_err(|error| answer::transport_failure("sending a ZNS template", &error))?;
        let answer = answer::interpret_for(
            answer::Api::Template,
            response.status,
            &response.body,
            response.header("retry-after"),
        );
        match answer {
            Ok(accepted) => {
                return Ok(DeliveryReceipt {
                    provider_message_id: accepted.message_id,
                    provider_response: Some(accepted.raw),
                });
            }
            Err(Refused::AccessToken(reason)) if !refreshed => {
                log::info(
                    "ZNS rejected the access token; refreshing",
                    &[("answer", &reason)],
                );
                refreshed = true;
                token = credentials.after_rejection(&token)?;
            }
            Err(Refused::AccessToken(reason)) => {
                return Err(DeliveryError::Permanent(format!(
                    "{reason}, even with a freshly refreshed token: reconnect the OA"
                )));
            }
            Err(Refused::Delivery(error)) => return Err(error),
        }
    }
}
