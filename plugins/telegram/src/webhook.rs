//! The webhook's gate and answers: Telegram proves a request is its own only by echoing
//! the `secret_token` given to `setWebhook` in `X-Telegram-Bot-Api-Secret-Token` (no
//! signature over the body), so that header is checked before the body is even read.

use loa_sdk::{HttpRequest, HttpResponse};

/// The header Telegram puts the webhook's secret token in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// `Err` with the 401 answer when the request does not carry `secret`.
pub fn check_secret(request: &HttpRequest, secret: &str) -> Result<(), HttpResponse> {
    let presented: Vec<&str> = request
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case(SECRET_HEADER))
        .map(|(_, value)| value.as_str())
        .collect();
    match presented.as_slice() {
        [] => Err(error(
            401,
            "missing_secret_token",
            "the X-Telegram-Bot-Api-Secret-Token header is missing; set the webhook with this channel's webhook_secret as secret_token",
        )),
        [value] if constant_time_eq(value.as_bytes(), secret.as_bytes()) => Ok(()),
        _ => Err(error(
            401,
            "invalid_secret_token",
            "the X-Telegram-Bot-Api-Secret-Token header does not match this channel's webhook_secret",
        )),
    }
}

/// Refuses anything but `POST`, the only method Telegram uses.
pub fn check_method(request: &HttpRequest) -> Result<(), HttpResponse> {
    if request.method.eq_ignore_ascii_case("POST") {
        Ok(())
    } else {
        Err(error(
            405,
            "method_not_allowed",
            &format!("Telegram posts updates; {} is not accepted", request.method),
        ))
    }
}

/// Whether `a` and `b` are equal, in a time that depends only on their lengths: how long
/// a wrong guess takes must not tell how many of its first bytes were right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let longest = a.len().max(b.len());
    let mut difference = u8::from(a.len() != b.len());
    for index in 0..longest {
        let left = a.get(index).copied().unwrap_or(0);
        let right = b.get(index).copied().unwrap_or(0);
        difference |= left ^ right;
    }
    // Keep the optimizer from turning the loop into an early-exit comparison.
    std::hint::black_box(difference) == 0
}

/// 200 for an update taken (or deliberately ignored). Telegram reads a JSON answer with
/// a `method` as a Bot API call; this one has none.
pub fn accepted() -> HttpResponse {
    json(200, r#"{"ok":true}"#.to_owned())
}

/// An error answer in loa's shape: `{"error": {"code": …, "message": …}}`.
pub fn error(status: u16, code: &str, message: &str) -> HttpResponse {
    let body = serde_json::json!({"error": {"code": code, "message": message}});
    json(status, body.to_string())
}

fn json(status: u16, body: String) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> HttpRequest {
        HttpRequest {
            method: "POST".into(),
            path_with_query: "/v1/hooks/tg-may".into(),
            headers: headers
                .iter()
                .map(|(name, value)| ((*name).into(), (*value).into()))
                .collect(),
            body: Vec::new(),
        }
    }

    fn error_code(response: &HttpResponse) -> String {
        let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        body["error"]["code"].as_str().unwrap().to_owned()
    }

    #[test]
    fn the_right_secret_passes_whatever_the_header_names_case() {
        let request = request(&[("X-Telegram-Bot-Api-Secret-Token", "s3cret_-A")]);
        assert!(check_secret(&request, "s3cret_-A").is_ok());
    }

    #[test]
    fn a_missing_secret_is_401_saying_so() {
        let refused = check_secret(&request(&[]), "s3cret").unwrap_err();
        assert_eq!(refused.status, 401);
        assert_eq!(error_code(&refused), "missing_secret_token");
    }

    #[test]
    fn a_wrong_or_repeated_secret_is_401() {
        for headers in [
            vec![(SECRET_HEADER, "s3cre")],
            vec![(SECRET_HEADER, "s3cret!")],
            vec![(SECRET_HEADER, "")],
            vec![(SECRET_HEADER, "nope"), (SECRET_HEADER, "s3cret")],
        ] {
            let refused = check_secret(&request(&headers), "s3cret").unwrap_err();
            assert_eq!(refused.status, 401, "{headers:?}");
            assert_eq!(error_code(&refused), "invalid_secret_token");
        }
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abc\0"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn only_post_is_accepted() {
        let mut get = request(&[]);
        get.method = "GET".into();
        assert_eq!(check_method(&get).unwrap_err().status, 405);
        assert!(check_method(&request(&[])).is_ok());
    }
}
