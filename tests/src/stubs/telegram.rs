//! The Telegram Bot API as a bot calls it: `POST /bot<token>/<method>` with a JSON body,
//! for `sendMessage`, `sendPhoto`, `sendDocument` and `answerCallbackQuery`. A wrong
//! token gets 401 `Unauthorized`, a missing or oversized parameter 400 with Telegram's
//! wording, a sent message `{"ok":true,"result":{"message_id":N,…}}` with ids counting
//! up. Every request is recorded; faults (500, 429 with `retry_after`, a stall, 403 bot
//! blocked) are injected for the next requests on demand.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};

use super::{StubServer, json_response};

/// Telegram's limit on a message's text, in UTF-16 code units.
const MAX_TEXT_UTF16: usize = 4096;
/// Telegram's limit on a button's `callback_data`, in bytes.
const MAX_CALLBACK_DATA_BYTES: usize = 64;

/// A fault the server answers instead of doing what it is asked.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 500 Internal Server Error.
    ServerError,
    /// 429 Too Many Requests, with `parameters.retry_after` in seconds.
    FloodControl {
        /// Seconds Telegram asks to wait.
        retry_after_secs: u64,
    },
    /// Waits this long, then does the work and answers as usual (a bot that gave up
    /// meanwhile never learns the message went out).
    Stall(Duration),
    /// 403 `Forbidden: bot was blocked by the user`.
    Blocked,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The Bot API method (`sendMessage` …), from the path.
    pub method: String,
    /// The path as requested (it carries the token).
    pub path: String,
    /// The JSON body (`Null` when it was not JSON).
    pub body: Value,
    /// The HTTP status answered.
    pub status: u16,
    /// The `message_id` of the message it sent, when it sent one.
    pub message_id: Option<i64>,
    /// When it arrived.
    pub at: Instant,
}

impl Recorded {
    /// Whether Telegram accepted it (a message shown in the chat, a press answered).
    pub fn accepted(&self) -> bool {
        self.status == 200
    }

    /// The body's `text` (empty when it has none).
    pub fn text(&self) -> &str {
        self.body["text"].as_str().unwrap_or_default()
    }
}

struct State {
    token: String,
    next_message_id: i64,
    /// What the next requests with the right token get: a fault, or `None` to be served.
    faults: VecDeque<Option<Fault>>,
    requests: Vec<Recorded>,
}

/// The running server; stops when dropped.
pub struct TelegramApi {
    /// `http://127.0.0.1:<port>`, a channel's `api_base_url`.
    pub base_url: String,
    state: Arc<Mutex<State>>,
    _server: StubServer,
}

impl TelegramApi {
    /// Serves the bot whose token is `token`.
    pub async fn start(token: &str) -> Self {
        let state = Arc::new(Mutex::new(State {
            token: token.to_owned(),
            next_message_id: 1,
            faults: VecDeque::new(),
            requests: Vec::new(),
        }));
        let shared = Arc::clone(&state);
        let server = StubServer::start(move |request| answer(Arc::clone(&shared), request)).await;
        Self {
            base_url: format!("http://{}", server.address),
            state,
            _server: server,
        }
    }

    /// Answers the next `times` requests that present the right token with `fault`,
    /// after anything still planned.
    pub fn fail_next(&self, times: usize, fault: Fault) {
        self.locked()
            .faults
            .extend(std::iter::repeat_n(Some(fault), times));
    }

    /// Serves the next `times` requests with the right token as usual, after anything
    /// still planned: `pass_next(1)` then `fail_next(1, …)` fails the second request.
    pub fn pass_next(&self, times: usize) {
        self.locked()
            .faults
            .extend(std::iter::repeat_n(None, times));
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.locked().requests.clone()
    }

    /// The requests of `method` so far, oldest first.
    pub fn calls_of(&self, method: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|request| request.method == method)
            .collect()
    }

    /// The messages shown in chat `chat_id`: accepted `sendMessage` calls, oldest first.
    pub fn messages_to(&self, chat_id: i64) -> Vec<Recorded> {
        self.calls_of("sendMessage")
            .into_iter()
            .filter(|request| request.accepted() && request.body["chat_id"] == json!(chat_id))
            .collect()
    }

    /// Waits until `done` holds for the requests so far, and returns them; panics with
    /// them after `timeout`.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        done: impl Fn(&[Recorded]) -> bool,
    ) -> Vec<Recorded> {
        super::wait_for_requests("Bot API", timeout, || self.requests(), done).await
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

async fn answer(state: Arc<Mutex<State>>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let at = Instant::now();
    let path = request.uri().path().to_owned();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (token, method) = path
        .strip_prefix("/bot")
        .and_then(|rest| rest.split_once('/'))
        .unwrap_or(("", ""));
    let (method, token) = (method.to_owned(), token.to_owned());
    let fault = {
        let mut state = lock(&state);
        (token == state.token)
            .then(|| state.faults.pop_front())
            .flatten()
            .flatten()
    };
    let (status, answer) = match fault {
        Some(Fault::ServerError) => failure(500, "Internal Server Error", None),
        Some(Fault::FloodControl { retry_after_secs }) => failure(
            429,
            &format!("Too Many Requests: retry after {retry_after_secs}"),
            Some(json!({"retry_after": retry_after_secs})),
        ),
        Some(Fault::Blocked) => failure(403, "Forbidden: bot was blocked by the user", None),
        Some(Fault::Stall(wait)) => {
            tokio::time::sleep(wait).await;
            perform(&state, &token, &method, &body)
        }
        None => perform(&state, &token, &method, &body),
    };
    let message_id = answer["result"]["message_id"].as_i64();
    lock(&state).requests.push(Recorded {
        method,
        path,
        body,
        status,
        message_id,
        at,
    });
    json_response(status, answer.to_string())
}

/// Does what `method` asks, as Telegram would, checking what Telegram checks.
fn perform(state: &Mutex<State>, token: &str, method: &str, body: &Value) -> (u16, Value) {
    if token != lock(state).token {
        return failure(401, "Unauthorized", None);
    }
    if !body.is_object() {
        return failure(
            400,
            "Bad Request: the request body is not a JSON object",
            None,
        );
    }
    if let Some(problem) = invalid_keyboard(body) {
        return failure(400, &format!("Bad Request: {problem}"), None);
    }
    let chat_id = &body["chat_id"];
    let required = match method {
        "sendMessage" => "text",
        "sendPhoto" => "photo",
        "sendDocument" => "document",
        "answerCallbackQuery" => "callback_query_id",
        _ => return failure(404, "Not Found", None),
    };
    let missing = |name: &str| {
        body[name]
            .as_str()
            .is_none_or(|value| value.trim().is_empty())
    };
    if missing(required) {
        return failure(400, &format!("Bad Request: {required} is empty"), None);
    }
    if method == "answerCallbackQuery" {
        return (200, json!({"ok": true, "result": true}));
    }
    if !(chat_id.is_i64() || chat_id.is_string()) {
        return failure(400, "Bad Request: chat_id is empty", None);
    }
    if method == "sendMessage" {
        let length: usize = body["text"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .map(char::len_utf16)
            .sum();
        if length > MAX_TEXT_UTF16 {
            return failure(400, "Bad Request: message is too long", None);
        }
    }
    let message_id = {
        let mut state = lock(state);
        let id = state.next_message_id;
        state.next_message_id += 1;
        id
    };
    let mut result = json!({
        "message_id": message_id,
        "from": {"id": 100_000, "is_bot": true, "first_name": "Mây", "username": "may_shop_bot"},
        "chat": {"id": chat_id, "type": "private"},
        "date": 1_700_000_000,
    });
    match method {
        "sendMessage" => result["text"] = body["text"].clone(),
        "sendPhoto" => {
            result["photo"] = json!([{"file_id": format!("photo-{message_id}"), "file_unique_id": "p", "width": 800, "height": 800}]);
        }
        _ => {
            result["document"] =
                json!({"file_id": format!("doc-{message_id}"), "file_unique_id": "d"})
        }
    }
    if let Some(markup) = body.get("reply_markup") {
        result["reply_markup"] = markup.clone();
    }
    (200, json!({"ok": true, "result": result}))
}

/// What Telegram refuses in an inline keyboard: a button with no text, or with neither
/// or both of `url` and `callback_data`, or `callback_data` over 64 bytes.
fn invalid_keyboard(body: &Value) -> Option<String> {
    let markup = body.get("reply_markup")?;
    let Some(rows) = markup["inline_keyboard"].as_array() else {
        return Some("can't parse reply keyboard markup JSON object".into());
    };
    for button in rows
        .iter()
        .flat_map(|row| row.as_array().into_iter().flatten())
    {
        if button["text"].as_str().is_none_or(str::is_empty) {
            return Some("button text must be non-empty".into());
        }
        match (button["callback_data"].as_str(), button["url"].as_str()) {
            (Some(data), None) if data.is_empty() || data.len() > MAX_CALLBACK_DATA_BYTES => {
                return Some("BUTTON_DATA_INVALID".into());
            }
            (Some(_), None) | (None, Some(_)) => {}
            _ => return Some("can't find field \"callback_data\" or \"url\"".into()),
        }
    }
    None
}

fn failure(status: u16, description: &str, parameters: Option<Value>) -> (u16, Value) {
    let mut body = json!({"ok": false, "error_code": status, "description": description});
    if let Some(parameters) = parameters {
        body["parameters"] = parameters;
    }
    (status, body)
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}
