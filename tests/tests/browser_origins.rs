//! What browsers on other sites may do, against the real `loa serve`: a bot's widget
//! answers only pages of this host and of the origins the bot lists in `allowed_origins`
//! (the settings endpoint and the WebSocket, which CORS does not guard), the admin API
//! answers CORS preflights only from `http.admin_origins`, and every answer carries the
//! security headers (HTML pages: no framing by other sites).

use std::time::{Duration, Instant};

use loa_e2e::accounts::{DEMO_OWNER, call, demo_shop_with_owner, login};
use loa_e2e::http::{Answer, send};
use loa_e2e::serve::Server;
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const SHOP_SITE: &str = "https://may.vn";
const STRANGER: &str = "https://evil.example";
const ADMIN_SITE: &str = "https://admin.may.vn";

/// The demo shop with an owner, `http.admin_origins` set to [`ADMIN_SITE`], served.
async fn shop() -> (tempfile::TempDir, Server, String) {
    let (data, password) =
        demo_shop_with_owner(&format!("\n[http]\nadmin_origins = [\"{ADMIN_SITE}\"]\n"));
    let server = Server::start(data.path(), std::iter::empty::<&str>());
    let token = login(server.base_url(), DEMO_OWNER, &password).await.access;
    (data, server, token)
}

/// `GET /v1/widget/may` as a page of `origin` would send it (none: not a browser).
async fn widget_settings(server: &Server, origin: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
    send(
        "GET",
        &format!("{}/v1/widget/may", server.base_url()),
        &headers,
        Vec::new(),
    )
    .await
}

/// The status of a WebSocket handshake to the widget from a page of `origin`.
async fn socket_status(server: &Server, origin: &str) -> u16 {
    let url = format!(
        "{}/v1/widget/may/ws",
        server.base_url().replacen("http", "ws", 1)
    );
    let mut request = url.into_client_request().expect("a WebSocket request");
    request
        .headers_mut()
        .insert("origin", origin.parse().expect("an origin header"));
    match tokio_tungstenite::connect_async(request).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(error) => panic!("handshake failed without an HTTP answer: {error}"),
    }
}

#[tokio::test]
async fn a_bots_widget_answers_only_its_own_and_its_allowed_origins() {
    let (_data, server, token) = shop().await;
    // Servers and apps send no Origin; the host's own pages send its own.
    assert_eq!(widget_settings(&server, None).await.status, 200);
    assert_eq!(
        widget_settings(&server, Some(server.base_url()))
            .await
            .status,
        200
    );
    let refused = widget_settings(&server, Some(STRANGER)).await;
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert_eq!(refused.json["error"]["code"], "origin_not_allowed");
    let message = refused.json["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("allowed_origins"), "{message}");
    assert_eq!(refused.header("access-control-allow-origin"), None);
    assert_eq!(socket_status(&server, STRANGER).await, 403);
    assert_eq!(socket_status(&server, SHOP_SITE).await, 403);

    // The owner lists the shop's site on the bot.
    let path = "/v1/tenants/may/bots/may";
    let bot = call(server.base_url(), Some(&token), "GET", path, None).await;
    assert_eq!(bot.status, 200, "{}", bot.text());
    let mut settings = bot.json["bot"]["settings"].clone();
    settings["allowed_origins"] = json!([SHOP_SITE]);
    let body = json!({"name": bot.json["bot"]["name"], "settings": settings});
    let replaced = call(server.base_url(), Some(&token), "PUT", path, Some(&body)).await;
    assert_eq!(replaced.status, 200, "{}", replaced.text());

    // Bot settings are cached for a few seconds: wait for the change to reach the widget.
    let deadline = Instant::now() + Duration::from_secs(30);
    let allowed = loop {
        let answer = widget_settings(&server, Some(SHOP_SITE)).await;
        if answer.status == 200 || Instant::now() > deadline {
            break answer;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(allowed.status, 200, "{}", allowed.text());
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some(SHOP_SITE)
    );
    let vary = allowed.header("vary").unwrap_or_default().to_lowercase();
    assert!(vary.contains("origin"), "Vary: {vary}");
    assert_eq!(socket_status(&server, SHOP_SITE).await, 101);
    // Anyone else is still refused.
    assert_eq!(widget_settings(&server, Some(STRANGER)).await.status, 403);
    assert_eq!(socket_status(&server, STRANGER).await, 403);
}

#[tokio::test]
async fn the_admin_api_answers_preflights_only_from_its_configured_origins() {
    let (_data, server, token) = shop().await;
    let preflight = |origin: &'static str| {
        let url = format!("{}/v1/me", server.base_url());
        async move {
            send(
                "OPTIONS",
                &url,
                &[
                    ("origin", origin),
                    ("access-control-request-method", "GET"),
                    ("access-control-request-headers", "authorization"),
                ],
                Vec::new(),
            )
            .await
        }
    };
    let admitted = preflight(ADMIN_SITE).await;
    assert!(admitted.status < 300, "{}", admitted.status);
    assert_eq!(
        admitted.header("access-control-allow-origin"),
        Some(ADMIN_SITE)
    );
    let allowed_headers = admitted
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_lowercase();
    assert!(
        allowed_headers.contains("authorization"),
        "{allowed_headers}"
    );
    let stranger = preflight(STRANGER).await;
    assert_eq!(stranger.header("access-control-allow-origin"), None);

    // A real call from the admin site carries the header; one from elsewhere does not.
    let bearer = format!("Bearer {token}");
    let url = format!("{}/v1/me", server.base_url());
    for (origin, expected) in [(ADMIN_SITE, Some(ADMIN_SITE)), (STRANGER, None)] {
        let answer = send(
            "GET",
            &url,
            &[("authorization", bearer.as_str()), ("origin", origin)],
            Vec::new(),
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(answer.header("access-control-allow-origin"), expected);
    }
}

#[tokio::test]
async fn answers_carry_the_security_headers() {
    let (_data, server, _) = shop().await;
    let json = send(
        "GET",
        &format!("{}/v1/widget/may", server.base_url()),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(json.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(json.header("x-frame-options"), None, "only HTML pages");
    let page = send(
        "GET",
        &format!("{}/v1/docs/", server.base_url()),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(
        page.header("content-type")
            .is_some_and(|kind| kind.starts_with("text/html")),
        "{:?}",
        page.headers
    );
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("x-frame-options"), Some("SAMEORIGIN"));
    let policy = page.header("content-security-policy").unwrap_or_default();
    assert!(policy.contains("frame-ancestors 'self'"), "{policy}");
    assert_eq!(
        page.header("referrer-policy"),
        Some("strict-origin-when-cross-origin")
    );
}
