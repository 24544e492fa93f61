//! A scripted OpenAI-compatible chat-completions server (`POST /v1/chat/completions`): each
//! request gets the next planned [`Reply`] (tool calls, text, an error status, a stall, a
//! raw body), or the fallback once the script is used up. Every request body is recorded.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};

use super::{StubServer, json_response};

/// What the server answers to one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// An assistant message calling these tools: (name, arguments as JSON text).
    ToolCalls(Vec<(String, String)>),
    /// An assistant message with this text (a tool call written as text is also just text).
    Text(String),
    /// This HTTP status with this body, and a `Retry-After` header when given.
    Status {
        /// HTTP status.
        status: u16,
        /// `Retry-After` value.
        retry_after: Option<String>,
        /// Body.
        body: String,
    },
    /// Waits this long, then answers the inner reply (the client has usually given up).
    Stall(Duration, Box<Reply>),
    /// 200 with this body as it is (not a chat completion, maybe not JSON).
    Raw(String),
}

impl Reply {
    /// One tool call.
    pub fn call(name: &str, arguments: Value) -> Self {
        Self::ToolCalls(vec![(name.to_owned(), arguments.to_string())])
    }

    /// A text answer.
    pub fn text(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

#[derive(Default)]
struct Script {
    planned: VecDeque<Reply>,
    otherwise: Option<Reply>,
    requests: Vec<Value>,
    authorizations: Vec<Option<String>>,
}

/// The running server; stops when dropped.
pub struct OpenAiStub {
    /// `http://127.0.0.1:<port>/v1`, what a bot's `llm.base_url` names.
    pub base_url: String,
    script: Arc<Mutex<Script>>,
    _server: StubServer,
}

impl OpenAiStub {
    /// Starts on a free loopback port.
    pub async fn start() -> Self {
        let script = Arc::new(Mutex::new(Script::default()));
        let shared = Arc::clone(&script);
        let server = StubServer::start(move |request| answer(Arc::clone(&shared), request)).await;
        Self {
            base_url: format!("http://{}/v1", server.address),
            script,
            _server: server,
        }
    }

    /// Plans the next replies, after any still planned.
    pub fn plan(&self, replies: impl IntoIterator<Item = Reply>) {
        self.locked().planned.extend(replies);
    }

    /// What to answer once the plan is used up (default: 500 "script exhausted").
    pub fn otherwise(&self, reply: Reply) {
        self.locked().otherwise = Some(reply);
    }

    /// Forgets the plan, the fallback and the recorded requests.
    pub fn reset(&self) {
        *self.locked() = Script::default();
    }

    /// The `Authorization` header of every request so far, oldest first.
    pub fn authorizations(&self) -> Vec<Option<String>> {
        self.locked().authorizations.clone()
    }

    /// Every request body received so far, oldest first.
    pub fn requests(&self) -> Vec<Value> {
        self.locked().requests.clone()
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(|p| p.into_inner())
    }
}

async fn answer(script: Arc<Mutex<Script>>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let authorization = request
        .headers()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = request
        .into_body()
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    if path != "/v1/chat/completions" {
        return respond(
            404,
            None,
            json!({"error": {"message": "no such route"}}).to_string(),
        );
    }
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(parsed) => parsed,
        Err(error) => {
            return respond(
                400,
                None,
                json!({"error": {"message": format!("body is not JSON: {error}")}}).to_string(),
            );
        }
    };
    let prompt_chars = parsed.to_string().chars().count();
    let reply = {
        let mut script = script.lock().unwrap_or_else(|p| p.into_inner());
        script.requests.push(parsed);
        script.authorizations.push(authorization);
        script
            .planned
            .pop_front()
            .or_else(|| script.otherwise.clone())
    };
    let mut reply = reply.unwrap_or(Reply::Status {
        status: 500,
        retry_after: None,
        body: "script exhausted".into(),
    });
    while let Reply::Stall(wait, then) = reply {
        tokio::time::sleep(wait).await;
        reply = *then;
    }
    let message = match reply {
        Reply::ToolCalls(calls) => json!({
            "role": "assistant",
            "content": null,
            "tool_calls": calls.iter().enumerate().map(|(index, (name, arguments))| json!({
                "id": format!("call_{index}"),
                "type": "function",
                "function": {"name": name, "arguments": arguments}
            })).collect::<Vec<_>>()
        }),
        Reply::Text(text) => json!({"role": "assistant", "content": text}),
        Reply::Status {
            status,
            retry_after,
            body,
        } => return respond(status, retry_after, body),
        Reply::Raw(body) => return respond(200, None, body),
        Reply::Stall(..) => unreachable!("stalls are unwrapped above"),
    };
    let finish = if message.get("tool_calls").is_some() {
        "tool_calls"
    } else {
        "stop"
    };
    // Token counts as a real server would report them, roughly 4 characters a token.
    let completion_tokens = message.to_string().chars().count() / 4 + 1;
    let body = json!({
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "model": "stub",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt_chars / 4 + 1,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_chars / 4 + 1 + completion_tokens
        }
    });
    respond(200, None, body.to_string())
}

fn respond(status: u16, retry_after: Option<String>, body: String) -> Response<Full<Bytes>> {
    let mut response = json_response(status, body);
    if let Some(value) = retry_after.and_then(|value| value.parse().ok()) {
        response.headers_mut().insert("retry-after", value);
    }
    response
}
