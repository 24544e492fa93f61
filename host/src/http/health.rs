//! `/healthz` (the process answers) and `/readyz` (it can do its job: the store answers
//! and it is not shutting down), for load balancers and orchestrators.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;

/// Always 200 while the process runs.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// 200 with the queue depths when the store answers; 503 when it does not or when the host
/// is draining (so the load balancer stops sending new visitors here).
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.shutdown.is_cancelled() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "draining"})),
        )
            .into_response();
    }
    match state.store.queue_depths().await {
        Ok(depths) => Json(json!({"status": "ready", "queues": depths})).into_response(),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "store_unavailable", "error": error.to_string()})),
        )
            .into_response(),
    }
}
