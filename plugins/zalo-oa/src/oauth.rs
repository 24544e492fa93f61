//! Zalo's OAuth v4 token refresh for an OA: `POST {oauth}/v4/oa/access_token` with the
//! app's secret in the `secret_key` header and a form body
//! `refresh_token=…&app_id=…&grant_type=refresh_token`; the answer is
//! `{"access_token", "refresh_token", "expires_in"}` (seconds, as a string in Zalo's
//! answers) or an error object. A refresh token works once: the answer's refresh token
//! replaces it.

use loa_sdk::http::percent_encode;
use serde_json::Value;

use crate::answer::cut;

/// Zalo's OAuth server, when the channel sets no `oauth_base_url`.
pub const DEFAULT_OAUTH_BASE_URL: &str = "https://oauth.zaloapp.com";

/// A refreshed pair of tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPair {
    /// The new access token.
    pub access_token: String,
    /// The new refresh token (the old one is spent).
    pub refresh_token: String,
    /// How long the access token lives, in ms, when Zalo says.
    pub expires_in_ms: Option<u64>,
}

/// Why a refresh gave no tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshFailure {
    /// Zalo said no (spent or revoked refresh token, wrong app secret …): only a new
    /// authorization of the OA helps.
    Refused(String),
    /// No usable answer (server trouble, a cut-off or foreign answer): try later.
    Unavailable(String),
}

/// `{base}/v4/oa/access_token`.
pub fn access_token_url(oauth_base_url: &str) -> String {
    format!(
        "{}/v4/oa/access_token",
        oauth_base_url.trim().trim_end_matches('/')
    )
}

/// The form body of a refresh.
pub fn form_body(refresh_token: &str, app_id: &str) -> String {
    format!(
        "refresh_token={}&app_id={}&grant_type=refresh_token",
        percent_encode(refresh_token),
        percent_encode(app_id.trim())
    )
}

/// The answer (`status`, `body`) to a refresh. Reasons never contain a token.
pub fn interpret(status: u16, body: &[u8]) -> Result<NewPair, RefreshFailure> {
    if status == 429 || status >= 500 {
        return Err(RefreshFailure::Unavailable(format!(
            "Zalo's OAuth server answered HTTP {status}"
        )));
    }
    let Ok(answer) = serde_json::from_slice::<Value>(body) else {
        let reason = format!(
            "Zalo's OAuth server answered HTTP {status} without JSON: {}",
            cut(&String::from_utf8_lossy(body))
        );
        return Err(if (200..300).contains(&status) {
            RefreshFailure::Unavailable(reason)
        } else {
            RefreshFailure::Refused(reason)
        });
    };
    let text = |key: &str| {
        answer
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|text| !text.is_empty())
    };
    if let Some(access_token) = text("access_token") {
        let expires_in_ms = answer
            .get("expires_in")
            .and_then(|value| match value {
                Value::String(seconds) => seconds.trim().parse::<u64>().ok(),
                Value::Number(seconds) => seconds.as_u64(),
                _ => None,
            })
            .map(|seconds| seconds.saturating_mul(1000));
        return Ok(NewPair {
            access_token: access_token.to_owned(),
            refresh_token: text("refresh_token").unwrap_or_default().to_owned(),
            expires_in_ms,
        });
    }
    let code = answer
        .get("error")
        .map(Value::to_string)
        .unwrap_or_else(|| "?".into());
    let said = ["error_description", "error_reason", "error_name", "message"]
        .into_iter()
        .find_map(text)
        .unwrap_or("no description");
    Err(RefreshFailure::Refused(format!(
        "Zalo refused to refresh the access token (error {code}: {said})"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_is_encoded_and_the_url_built() {
        assert_eq!(
            form_body("a+b/c=", " 123 "),
            "refresh_token=a%2Bb%2Fc%3D&app_id=123&grant_type=refresh_token"
        );
        assert_eq!(
            access_token_url("https://oauth.zaloapp.com/"),
            "https://oauth.zaloapp.com/v4/oa/access_token"
        );
    }

    #[test]
    fn a_new_pair_is_read_with_expires_in_as_a_string_or_a_number() {
        let body = br#"{"access_token":"AT2","refresh_token":"RT2","expires_in":"90000"}"#;
        assert_eq!(
            interpret(200, body),
            Ok(NewPair {
                access_token: "AT2".into(),
                refresh_token: "RT2".into(),
                expires_in_ms: Some(90_000_000),
            })
        );
        let number = br#"{"access_token":"AT2","refresh_token":"RT2","expires_in":3600}"#;
        assert_eq!(
            interpret(200, number).unwrap().expires_in_ms,
            Some(3_600_000)
        );
        let none = br#"{"access_token":"AT2","refresh_token":"RT2"}"#;
        assert_eq!(interpret(200, none).unwrap().expires_in_ms, None);
    }

    #[test]
    fn an_error_object_is_a_refusal_with_zalos_words() {
        let body = br#"{"error_name":"Invalid parameter","error_reason":"Invalid refresh token","ref_doc":"https://developers.zalo.me","error_description":"Refresh token is invalid","error":-14014}"#;
        let RefreshFailure::Refused(reason) = interpret(200, body).unwrap_err() else {
            panic!("a refusal")
        };
        assert_eq!(
            reason,
            "Zalo refused to refresh the access token (error -14014: Refresh token is invalid)"
        );
        assert!(matches!(
            interpret(400, b"bad"),
            Err(RefreshFailure::Refused(_))
        ));
    }

    #[test]
    fn server_trouble_and_odd_answers_are_unavailable() {
        for (status, body) in [(500, &b"{}"[..]), (429, b""), (200, b"<html>")] {
            assert!(
                matches!(interpret(status, body), Err(RefreshFailure::Unavailable(_))),
                "{status}"
            );
        }
    }
}
