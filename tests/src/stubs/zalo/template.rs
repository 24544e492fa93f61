//! ZNS's template message API, `POST /message/template` (on business.openapi.zalo.me):
//! checks the phone, template id and data as ZNS does and gives a `msg_id`.

use std::sync::Mutex;

use serde_json::{Value, json};

use super::{State, lock, zalo_error};

/// A ZNS template message, checked as ZNS checks it: -124 for a bad access token, -108 a
/// phone number not in international form, -109 an empty template id, -112 template data
/// that is not an object of strings; else `data.msg_id` (ids count up with the messages').
pub(super) fn template(
    state: &Mutex<State>,
    access_token: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    let token_valid =
        access_token.is_some_and(|token| lock(state).valid_access_tokens.contains(token));
    if !token_valid {
        return (200, zalo_error(-124, "Access token is invalid"));
    }
    let phone = body["phone"].as_str().unwrap_or_default();
    let international = phone.starts_with("84")
        && (10..=12).contains(&phone.len())
        && phone.bytes().all(|b| b.is_ascii_digit());
    if !international {
        return (200, zalo_error(-108, "Phone number invalid"));
    }
    if body["template_id"].as_str().is_none_or(str::is_empty) {
        return (200, zalo_error(-109, "Template ID invalid"));
    }
    let data_ok = body["template_data"]
        .as_object()
        .is_some_and(|data| !data.is_empty() && data.values().all(Value::is_string));
    if !data_ok {
        return (200, zalo_error(-112, "Template data invalid"));
    }
    let msg_id = {
        let mut state = lock(state);
        state.taken += 1;
        format!("{:032x}", 0x2a50_0000_u64 + state.taken)
    };
    (
        200,
        json!({
            "error": 0,
            "message": "Success",
            "data": {
                "msg_id": msg_id,
                "sent_time": "1760000000000",
                "quota": {"dailyQuota": "500", "remainingQuota": "499"}
            }
        }),
    )
}
