//! The Graph API's Send API as Meta documents it, for the `messenger` channel plugin:
//! `POST /{version}/me/messages?access_token=…` with `{"recipient": {"id"},
//! "messaging_type", "message"}`, answered `{"recipient_id", "message_id": "m_…"}`. A wrong
//! token gets Graph's error 190, a message Messenger would refuse (text over 2,000
//! characters, more than 13 quick replies, 3 template buttons or 10 cards, long titles)
//! error 100. Every request is recorded; faults are planned request by request.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};

use super::{StubServer, json_response};

/// What the stub does with one planned request instead of answering it normally.
#[derive(Debug, Clone)]
pub enum Fault {
    /// HTTP 500, Graph error 2 ("Service temporarily unavailable").
    ServerError,
    /// HTTP 400, Graph error 613 ("Calls to this api have exceeded the rate limit").
    RateLimit,
    /// HTTP 400, Graph error 10 / subcode 2018278: outside the 24-hour window.
    OutsideWindow,
    /// Waits this long, then answers HTTP 500 (the message was not taken; the client has
    /// usually given up by then).
    Stall(Duration),
}

/// One request as the stub saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The path, e.g. `/v21.0/me/messages`.
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// The `access_token` query parameter, decoded.
    pub access_token: Option<String>,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
    /// The status answered; 0 while the answer is pending (a stall).
    pub status: u16,
    /// The `message_id` given, when the message was taken.
    pub message_id: Option<String>,
    /// When it arrived.
    pub at: Instant,
}

impl Recorded {
    /// `recipient.id` of the body.
    pub fn recipient(&self) -> Option<&str> {
        self.body["recipient"]["id"].as_str()
    }

    /// The text the customer sees: a text message's `text`, a button template's `text`.
    pub fn text(&self) -> Option<&str> {
        let message = &self.body["message"];
        message["text"]
            .as_str()
            .or_else(|| message["attachment"]["payload"]["text"].as_str())
    }
}

#[derive(Default)]
struct State {
    /// `None` answers normally; planned entries are used one per request.
    plan: VecDeque<Option<Fault>>,
    requests: Vec<Recorded>,
    /// Messages taken so far; numbers the `message_id`s.
    taken: u64,
}

/// The running Send API; stops when dropped.
pub struct GraphApi {
    /// `http://127.0.0.1:<port>`, the plugin's `api_base_url`.
    pub base_url: String,
    state: Arc<Mutex<State>>,
    _server: StubServer,
}

impl GraphApi {
    /// Serves the Send API to callers presenting `page_access_token`.
    pub async fn start(page_access_token: &str) -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let token = page_access_token.to_owned();
        let server =
            StubServer::start(move |request| answer(Arc::clone(&shared), token.clone(), request))
                .await;
        Self {
            base_url: format!("http://{}", server.address),
            state,
            _server: server,
        }
    }

    /// The next `count` requests (after any already planned) meet `fault`.
    pub fn fail_next(&self, count: usize, fault: Fault) {
        let mut state = self.locked();
        state.plan.extend(std::iter::repeat_n(Some(fault), count));
    }

    /// The next `count` requests (after any already planned) are answered normally: with
    /// [`GraphApi::fail_next`] after it, a fault hits a later request.
    pub fn pass_next(&self, count: usize) {
        let mut state = self.locked();
        state.plan.extend(std::iter::repeat_n(None, count));
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.locked().requests.clone()
    }

    /// The messages taken (answered 200) for `psid`, oldest first.
    pub fn delivered_to(&self, psid: &str) -> Vec<Recorded> {
        self.locked()
            .requests
            .iter()
            .filter(|request| request.message_id.is_some() && request.recipient() == Some(psid))
            .cloned()
            .collect()
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

async fn answer(
    state: Arc<Mutex<State>>,
    token: String,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let at = Instant::now();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let method = request.method().clone();
    let bytes = request
        .into_body()
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let access_token = query_value(&query, "access_token");
    // Recorded on arrival, so the order is the order of requests even when one stalls.
    let (index, fault) = {
        let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
        state.requests.push(Recorded {
            path: path.clone(),
            query,
            access_token: access_token.clone(),
            body: body.clone(),
            status: 0,
            message_id: None,
            at,
        });
        (state.requests.len() - 1, state.plan.pop_front().flatten())
    };
    let (status, answer, message_id) = match fault {
        Some(fault) => {
            let (status, answer) = fault_answer(&fault).await;
            (status, answer, None)
        }
        None if method != hyper::Method::POST || !is_send_api_path(&path) => (
            404,
            graph_error(2500, None, format!("Unknown path components: {path}")),
            None,
        ),
        None if access_token.as_deref() != Some(token.as_str()) => (
            400,
            graph_error(
                190,
                None,
                "Invalid OAuth access token - Cannot parse access token".into(),
            ),
            None,
        ),
        None => match check_request(&body) {
            Err(problem) => (
                400,
                graph_error(100, None, format!("(#100) {problem}")),
                None,
            ),
            Ok(recipient) => {
                let id = {
                    let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
                    state.taken += 1;
                    format!("m_{}", state.taken)
                };
                let answer = json!({"recipient_id": recipient, "message_id": id});
                (200, answer, Some(id))
            }
        },
    };
    if let Some(recorded) = state
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .requests
        .get_mut(index)
    {
        recorded.status = status;
        recorded.message_id = message_id;
    }
    json_response(status, answer.to_string())
}

async fn fault_answer(fault: &Fault) -> (u16, Value) {
    match fault {
        Fault::ServerError => (
            500,
            graph_error(
                2,
                None,
                "An unexpected error has occurred. Please retry your request later.".into(),
            ),
        ),
        Fault::RateLimit => (
            400,
            graph_error(
                613,
                None,
                "Calls to this api have exceeded the rate limit.".into(),
            ),
        ),
        Fault::OutsideWindow => (
            400,
            graph_error(
                10,
                Some(2_018_278),
                "(#10) This message is sent outside of allowed window.".into(),
            ),
        ),
        Fault::Stall(wait) => {
            tokio::time::sleep(*wait).await;
            (500, graph_error(2, None, "stalled".into()))
        }
    }
}

/// `/v<major>.<minor>/me/messages`.
fn is_send_api_path(path: &str) -> bool {
    let mut segments = path.trim_start_matches('/').split('/');
    let version_ok = segments.next().is_some_and(|version| {
        version
            .strip_prefix('v')
            .and_then(|number| number.split_once('.'))
            .is_some_and(|(major, minor)| {
                [major, minor]
                    .iter()
                    .all(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()))
            })
    });
    version_ok && segments.collect::<Vec<_>>() == ["me", "messages"]
}

/// The recipient's PSID when the body is a message Messenger would take, else why not.
fn check_request(body: &Value) -> Result<String, String> {
    let recipient = body["recipient"]["id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .ok_or("param recipient[id] must be a non-empty string")?;
    if !matches!(
        body["messaging_type"].as_str(),
        Some("RESPONSE" | "UPDATE" | "MESSAGE_TAG")
    ) {
        return Err("param messaging_type must be RESPONSE, UPDATE or MESSAGE_TAG".into());
    }
    let message = &body["message"];
    let has_text = message["text"].is_string();
    let has_attachment = message["attachment"].is_object();
    if has_text == has_attachment {
        return Err("param message must have exactly one of text or attachment".into());
    }
    if let Some(text) = message["text"].as_str() {
        check_length("message[text]", text, 2000)?;
    }
    if let Some(chips) = message.get("quick_replies") {
        let chips = chips
            .as_array()
            .ok_or("param quick_replies must be an array")?;
        if chips.is_empty() || chips.len() > 13 {
            return Err("param quick_replies must have 1 to 13 elements".into());
        }
        for chip in chips {
            check_length(
                "quick_replies[title]",
                chip["title"].as_str().unwrap_or(""),
                20,
            )?;
            check_length(
                "quick_replies[payload]",
                chip["payload"].as_str().unwrap_or(""),
                1000,
            )?;
        }
    }
    let payload = &message["attachment"]["payload"];
    match payload["template_type"].as_str() {
        Some("button") => {
            check_length("payload[text]", payload["text"].as_str().unwrap_or(""), 640)?;
            check_buttons(&payload["buttons"], 1)?;
        }
        Some("generic") => {
            let elements = payload["elements"]
                .as_array()
                .filter(|elements| (1..=10).contains(&elements.len()))
                .ok_or("param elements must have 1 to 10 elements")?;
            for element in elements {
                check_length(
                    "elements[title]",
                    element["title"].as_str().unwrap_or(""),
                    80,
                )?;
                if let Some(subtitle) = element["subtitle"].as_str() {
                    check_length("elements[subtitle]", subtitle, 80)?;
                }
                if !element["buttons"].is_null() {
                    check_buttons(&element["buttons"], 1)?;
                }
            }
        }
        _ => {}
    }
    Ok(recipient.to_owned())
}

fn check_buttons(buttons: &Value, least: usize) -> Result<(), String> {
    let buttons = buttons
        .as_array()
        .filter(|buttons| (least..=3).contains(&buttons.len()))
        .ok_or_else(|| format!("param buttons must have {least} to 3 elements"))?;
    for button in buttons {
        check_length("buttons[title]", button["title"].as_str().unwrap_or(""), 20)?;
    }
    Ok(())
}

fn check_length(name: &str, value: &str, most: usize) -> Result<(), String> {
    let length = value.chars().count();
    if length == 0 || length > most {
        return Err(format!(
            "param {name} must be 1 to {most} characters (got {length})"
        ));
    }
    Ok(())
}

fn graph_error(code: u32, subcode: Option<u32>, message: String) -> Value {
    let mut error = json!({
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AStubTraceId"
    });
    if let Some(subcode) = subcode {
        error["error_subcode"] = subcode.into();
    }
    json!({ "error": error })
}

/// The value of `name` in a query string, `%XX`-decoded.
fn query_value(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| percent_decode(value))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}
