//! The Telegram Bot API as a bot calls it: `POST /bot<token>/<method>` with a JSON body,
//! for `sendMessage`, `sendPhoto`, `sendDocument`, `editMessageText` and
//! `answerCallbackQuery`. A wrong token gets 401 `Unauthorized`, a missing or oversized
//! parameter 400 with Telegram's wording, a sent message
//! `{"ok":true,"result":{"message_id":N,…}}`.
//!
//! The stub keeps every message of every chat (`chats`): those the bot sends and those
//! customers send ([`TelegramApi::customer_message`]), numbered by one counter, as Telegram
//! numbers all the messages of a bot's private chats in one sequence per bot. So
//! `editMessageText` answers as Telegram does: "message is not modified" only when the bot
//! has a message with that id in that chat with exactly that text and keyboard, which is
//! how a bot can tell, after a crash, whether a send arrived and under which id.
//!
//! Every request is recorded on arrival; faults (500, 429 with `retry_after`, a stall, a
//! message taken but its answer held, 403 bot blocked) are injected for the next requests
//! on demand.

mod chats;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};

use super::{StubServer, json_response};
use chats::{Chats, Content};

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
    /// Does the work at once (the message is taken: it gets its id, shows in the chat and
    /// counts as accepted) but holds the answer this long: a host killed meanwhile never
    /// learns that it went out.
    TakeAndHold(Duration),
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
    /// The HTTP status answered; 0 while the answer is pending (a stall). A message taken
    /// and held ([`Fault::TakeAndHold`]) shows the answer it gets once the hold is over.
    pub status: u16,
    /// The `message_id` of the message it sent or edited, when it sent or edited one.
    pub message_id: Option<i64>,
    /// Telegram's `description` of a refusal (`Bad Request: message to edit not found` …).
    pub description: Option<String>,
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

    /// The body's `chat_id` as text, a number's digits or a string as it is (`None` when
    /// it has none): Telegram takes either.
    pub fn chat(&self) -> Option<String> {
        chats::chat_key(&self.body["chat_id"])
    }
}

struct State {
    token: String,
    /// What the next requests with the right token get: a fault, or `None` to be served.
    faults: VecDeque<Option<Fault>>,
    requests: Vec<Recorded>,
    /// Every message of every chat, and the counter that numbers them.
    chats: Chats,
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
            faults: VecDeque::new(),
            requests: Vec::new(),
            chats: Chats::default(),
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
            .filter(|request| request.accepted() && request.chat() == Some(chat_id.to_string()))
            .collect()
    }

    /// A customer sends a message in private chat `chat`: it takes the bot's next message
    /// id (the one counter of the bot's private chats), which this returns for the update
    /// that carries it. Kept as the customer's: the bot cannot edit it.
    pub fn customer_message(&self, chat: i64) -> i64 {
        self.locked().chats.customer_message(chat)
    }

    /// [`TelegramApi::customer_message`] as a function of the chat that outlives this
    /// borrow: for updates built when they are first posted, on other tasks.
    pub fn numbering(&self) -> impl Fn(i64) -> i64 + Send + Sync + 'static {
        let state = Arc::clone(&self.state);
        move |chat| lock(&state).chats.customer_message(chat)
    }

    /// The bot's messages in chat `chat` as they stand now (edits applied), oldest first:
    /// each one's id and its text (a photo's or document's caption, empty without one).
    pub fn bot_messages_in(&self, chat: i64) -> Vec<(i64, String)> {
        self.locked().chats.bot_messages_in(&chat.to_string())
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
    // Recorded on arrival, so the order is the order of requests even when one stalls.
    let (index, fault) = {
        let mut state = lock(&state);
        let fault = (token == state.token)
            .then(|| state.faults.pop_front())
            .flatten()
            .flatten();
        state.requests.push(Recorded {
            method: method.clone(),
            path,
            body: body.clone(),
            status: 0,
            message_id: None,
            description: None,
            at,
        });
        (state.requests.len() - 1, fault)
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
        Some(Fault::TakeAndHold(hold)) => {
            let (status, answer) = perform(&state, &token, &method, &body);
            // Recorded before the hold: the bot may never get the answer (killed, or gone
            // after its timeout), and then this task is dropped with it.
            settle(&state, index, status, &answer);
            tokio::time::sleep(hold).await;
            (status, answer)
        }
        None => perform(&state, &token, &method, &body),
    };
    settle(&state, index, status, &answer);
    json_response(status, telegram_order(&answer))
}

/// The answer's JSON with its fields in Telegram's order, `ok` first, then `result`, or
/// `error_code`, `description` and `parameters` (a JSON map alone would sort them).
fn telegram_order(answer: &Value) -> String {
    let fields: Vec<String> = ["ok", "result", "error_code", "description", "parameters"]
        .into_iter()
        .filter_map(|name| Some(format!("{}:{}", json!(name), answer.get(name)?)))
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// Writes the answer into request `index`'s record.
fn settle(state: &Mutex<State>, index: usize, status: u16, answer: &Value) {
    if let Some(recorded) = lock(state).requests.get_mut(index) {
        recorded.status = status;
        recorded.message_id = answer["result"]["message_id"].as_i64();
        recorded.description = answer["description"].as_str().map(str::to_owned);
    }
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
        "editMessageText" => return chats::edit_message_text(&mut lock(state).chats, body),
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
    let Some(chat) = chats::chat_key(chat_id) else {
        return failure(400, "Bad Request: chat_id is empty", None);
    };
    if method == "sendMessage" && too_long(&body["text"]) {
        return failure(400, "Bad Request: message is too long", None);
    }
    let kept = match method {
        "sendMessage" => Content::Text(body["text"].as_str().unwrap_or_default().to_owned()),
        _ => Content::Media {
            caption: body["caption"].as_str().map(str::to_owned),
        },
    };
    let markup = chats::markup_of(body);
    let message_id = lock(state).chats.bot_message(chat, kept, markup);
    let mut result = message(message_id, chat_id);
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

/// The Message object of the bot's message `message_id` in private chat `chat_id`, without
/// its content.
fn message(message_id: i64, chat_id: &Value) -> Value {
    json!({
        "message_id": message_id,
        "from": {"id": 100_000, "is_bot": true, "first_name": "Mây", "username": "may_shop_bot"},
        "chat": {"id": chat_id, "type": "private"},
        "date": 1_700_000_000,
    })
}

/// Whether `text` is over Telegram's 4,096 UTF-16 units.
fn too_long(text: &Value) -> bool {
    let length: usize = text
        .as_str()
        .unwrap_or_default()
        .chars()
        .map(char::len_utf16)
        .sum();
    length > MAX_TEXT_UTF16
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
