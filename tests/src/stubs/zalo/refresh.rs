//! The OAuth token refresh, `POST /v4/oa/access_token`: checks the app's secret and id,
//! spends the single-use refresh token and issues a new pair.

use std::sync::Mutex;

use serde_json::{Value, json};

use super::{State, lock};

/// How long an issued access token lives, in seconds (Zalo's 25 hours).
const ACCESS_TOKEN_SECONDS: &str = "90000";

/// A token refresh: the app's secret, the app, then a refresh token never used before.
pub(super) fn refresh(
    state: &Mutex<State>,
    secret_key: Option<&str>,
    form: &Value,
) -> (u16, Value) {
    let mut state = lock(state);
    if secret_key != Some(state.app_secret_key.as_str()) {
        return (
            200,
            oauth_error(-14002, "Invalid secret key", "Secret key is invalid"),
        );
    }
    if form["app_id"].as_str() != Some(state.app_id.as_str()) {
        return (
            200,
            oauth_error(-14001, "Invalid app id", "app_id is invalid"),
        );
    }
    if form["grant_type"] != "refresh_token" {
        return (
            200,
            oauth_error(
                -14003,
                "Invalid grant type",
                "grant_type must be refresh_token",
            ),
        );
    }
    let presented = form["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    match state.refresh_tokens.get_mut(&presented) {
        Some(spent) if !*spent => *spent = true,
        _ => {
            return (
                200,
                oauth_error(
                    -14014,
                    "Invalid refresh token",
                    "Refresh token is invalid or has been used",
                ),
            );
        }
    }
    state.issued += 1;
    let access = format!(
        "zalo-at-{}-{:x}",
        state.issued,
        0xfeed_u32 + state.issued as u32
    );
    let refresh = format!(
        "zalo-rt-{}-{:x}",
        state.issued,
        0xbeef_u32 + state.issued as u32
    );
    state.valid_access_tokens.insert(access.clone());
    state.refresh_tokens.insert(refresh.clone(), false);
    state.latest = (access.clone(), refresh.clone());
    (
        200,
        json!({
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": ACCESS_TOKEN_SECONDS
        }),
    )
}

fn oauth_error(code: i64, reason: &str, description: &str) -> Value {
    json!({
        "error_name": "Invalid parameter",
        "error_reason": reason,
        "ref_doc": "https://developers.zalo.me/docs/official-account/bat-dau/xac-thuc-va-uy-quyen-cho-ung-dung-new",
        "error_description": description,
        "error": code
    })
}
