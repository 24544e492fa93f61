//! The demo shop's order API as the `order-status` plugin calls it:
//! `GET /orders/{id}` with `Authorization: Bearer <key>`, answered from the files in
//! `samples/demo-shop/order-api/orders/`; 401 for a wrong key, 404 for an unknown order.

use std::sync::{Arc, Mutex};

use super::{StubServer, json_response};
use crate::workspace_root;

/// The running order API.
pub struct OrderApi {
    /// `http://127.0.0.1:<port>`, the plugin's `api_base_url`.
    pub base_url: String,
    /// Paths requested so far.
    pub requested: Arc<Mutex<Vec<String>>>,
    _server: StubServer,
}

impl OrderApi {
    /// Serves the demo orders to callers presenting `api_key`.
    pub async fn start(api_key: &str) -> Self {
        let expected = format!("Bearer {api_key}");
        let requested = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requested);
        let server = StubServer::start(move |request| {
            let path = request.uri().path().to_owned();
            seen.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(path.clone());
            let authorized = request
                .headers()
                .get("authorization")
                .and_then(|value| value.to_str().ok())
                == Some(expected.as_str());
            async move {
                if !authorized {
                    return json_response(401, r#"{"error":"bad key"}"#.into());
                }
                let id = path.strip_prefix("/orders/").unwrap_or_default();
                let valid = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric());
                let file = workspace_root()
                    .join("samples/demo-shop/order-api/orders")
                    .join(id);
                match std::fs::read_to_string(&file) {
                    Ok(body) if valid => json_response(200, body),
                    _ => json_response(404, r#"{"error":"no such order"}"#.into()),
                }
            }
        })
        .await;
        Self {
            base_url: format!("http://{}", server.address),
            requested,
            _server: server,
        }
    }
}
