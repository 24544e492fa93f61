//! The Graph API as Meta documents it, for the `messenger` channel plugin. The Send API:
//! `POST /{version}/me/messages?access_token=…` with `{"recipient": {"id"},
//! "messaging_type", "message"}`, answered `{"recipient_id", "message_id": "m_…"}`. A wrong
//! token gets Graph's error 190, a message Messenger would refuse (text over 2,000
//! characters, more than 13 quick replies, 3 template buttons or 10 cards, long titles)
//! error 100. The Conversations API, read from what the stub took (and what tests say the
//! customer wrote): `GET /{version}/me/conversations?platform=messenger&user_id={PSID}`,
//! `GET /{version}/t_{PSID}?fields=messages` (newest first) and
//! `GET /{version}/m_N?fields=id,created_time,from,to,message` (only for a conversation's
//! 20 most recent messages). Every request is recorded; faults are planned Send API call
//! by Send API call.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};

use super::{StubServer, json_response};

/// The Page's id when a test names none ([`GraphApi::start`]).
pub const DEFAULT_PAGE_ID: &str = "100000000000001";

/// How many of a conversation's most recent messages can be read one by one: Meta's limit.
const READABLE_RECENT_MESSAGES: usize = 20;

/// What the stub does with one planned Send API call instead of answering it normally.
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
    /// Takes the message at once (it gets its id, counts as delivered and shows in the
    /// Conversations API) but holds the 200 answer this long: a host killed meanwhile
    /// never learns that it went out.
    TakeAndHold(Duration),
}

/// One request as the stub saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `POST` (the Send API) or `GET` (the Conversations API).
    pub method: String,
    /// The path, e.g. `/v21.0/me/messages`.
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// The `access_token` query parameter, decoded.
    pub access_token: Option<String>,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
    /// The status answered; 0 while the answer is pending (a stall, a hold).
    pub status: u16,
    /// The `message_id` given, when the message was taken (set on taking, before a held
    /// answer goes out).
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

/// One message of a conversation, as the Conversations API shows it.
#[derive(Debug, Clone)]
struct Said {
    id: String,
    /// `%Y-%m-%dT%H:%M:%S+0000`, when the stub took it or the test said it was written.
    created_time: String,
    /// Whether the customer sent it (else the Page did).
    by_customer: bool,
    /// Empty for an attachment or cards.
    text: String,
}

#[derive(Default)]
struct State {
    /// `None` answers normally; planned entries are used one per Send API call.
    plan: VecDeque<Option<Fault>>,
    requests: Vec<Recorded>,
    /// Messages taken so far; numbers the `message_id`s.
    taken: u64,
    /// The sender of the Page's messages in the Conversations API.
    page_id: String,
    /// The Page's conversation with each PSID, oldest message first.
    conversations: HashMap<String, Vec<Said>>,
}

/// The running Graph API; stops when dropped.
pub struct GraphApi {
    /// `http://127.0.0.1:<port>`, the plugin's `api_base_url`.
    pub base_url: String,
    state: Arc<Mutex<State>>,
    _server: StubServer,
}

impl GraphApi {
    /// Serves the Graph API of Page [`DEFAULT_PAGE_ID`] to callers presenting
    /// `page_access_token`.
    pub async fn start(page_access_token: &str) -> Self {
        Self::start_for_page(page_access_token, DEFAULT_PAGE_ID).await
    }

    /// Serves the Graph API of Page `page_id` (the sender of its messages in the
    /// Conversations API) to callers presenting `page_access_token`.
    pub async fn start_for_page(page_access_token: &str, page_id: &str) -> Self {
        let state = Arc::new(Mutex::new(State {
            page_id: page_id.to_owned(),
            ..State::default()
        }));
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

    /// The next `count` Send API calls (after any already planned) meet `fault`.
    pub fn fail_next(&self, count: usize, fault: Fault) {
        let mut state = self.locked();
        state.plan.extend(std::iter::repeat_n(Some(fault), count));
    }

    /// The next `count` Send API calls (after any already planned) are answered normally:
    /// with [`GraphApi::fail_next`] after it, a fault hits a later call.
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

    /// The Conversations API requests so far (`GET`s), oldest first.
    pub fn lookups(&self) -> Vec<Recorded> {
        self.locked()
            .requests
            .iter()
            .filter(|request| request.method == "GET")
            .cloned()
            .collect()
    }

    /// Puts the customer's message `mid` saying `text` in their conversation with the
    /// Page, as Meta has it once the webhook for it went out.
    pub fn customer_wrote(&self, psid: &str, mid: &str, text: &str) {
        let said = Said {
            id: mid.to_owned(),
            created_time: graph_time_now(),
            by_customer: true,
            text: text.to_owned(),
        };
        self.locked()
            .conversations
            .entry(psid.to_owned())
            .or_default()
            .push(said);
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.state)
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
    let route = Route::of(&method, &path);
    // Recorded on arrival, so the order is the order of requests even when one stalls.
    let (index, fault) = {
        let mut state = lock(&state);
        state.requests.push(Recorded {
            method: method.to_string(),
            path: path.clone(),
            query: query.clone(),
            access_token: access_token.clone(),
            body: body.clone(),
            status: 0,
            message_id: None,
            at,
        });
        let fault = match route {
            Route::Send => state.plan.pop_front().flatten(),
            _ => None,
        };
        (state.requests.len() - 1, fault)
    };
    // A hold is no failure: the call goes on to be taken, its answer late.
    let (hold, failure) = match fault {
        Some(Fault::TakeAndHold(wait)) => (Some(wait), None),
        other => (None, other),
    };
    let (status, answer) = match (failure, route) {
        (Some(fault), _) => fault_answer(&fault).await,
        (None, Route::Unknown) => (
            404,
            graph_error(2500, None, format!("Unknown path components: {path}")),
        ),
        _ if access_token.as_deref() != Some(token.as_str()) => (
            400,
            graph_error(
                190,
                None,
                "Invalid OAuth access token - Cannot parse access token".into(),
            ),
        ),
        (None, Route::Send) => send(&state, index, &body, hold).await,
        (None, Route::Conversations { page }) => conversations(&lock(&state), &page, &query),
        (None, Route::Node(id)) => node(&lock(&state), &id, &query),
    };
    if let Some(recorded) = lock(&state).requests.get_mut(index) {
        recorded.status = status;
    }
    json_response(status, answer.to_string())
}

/// What a request asks for.
enum Route {
    /// `POST /{version}/me/messages`.
    Send,
    /// `GET /{version}/{page}/conversations`.
    Conversations {
        page: String,
    },
    /// `GET /{version}/{id}`: a conversation or a message.
    Node(String),
    Unknown,
}

impl Route {
    fn of(method: &hyper::Method, path: &str) -> Route {
        let mut segments = path.trim_start_matches('/').split('/');
        if !segments.next().is_some_and(is_version) {
            return Route::Unknown;
        }
        match (method, segments.collect::<Vec<_>>().as_slice()) {
            (&hyper::Method::POST, ["me", "messages"]) => Route::Send,
            (&hyper::Method::GET, [page, "conversations"]) if !page.is_empty() => {
                Route::Conversations {
                    page: (*page).to_owned(),
                }
            }
            (&hyper::Method::GET, [id]) if !id.is_empty() => Route::Node(percent_decode(id)),
            _ => Route::Unknown,
        }
    }
}

/// `v<major>.<minor>`.
fn is_version(segment: &str) -> bool {
    segment
        .strip_prefix('v')
        .and_then(|number| number.split_once('.'))
        .is_some_and(|(major, minor)| {
            [major, minor]
                .iter()
                .all(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()))
        })
}

/// A Send API call: the message taken (and put in the customer's conversation) when
/// Messenger would take it, its answer held for `hold` if planned.
async fn send(
    state: &Mutex<State>,
    index: usize,
    body: &Value,
    hold: Option<Duration>,
) -> (u16, Value) {
    let recipient = match check_request(body) {
        Ok(recipient) => recipient,
        Err(problem) => return (400, graph_error(100, None, format!("(#100) {problem}"))),
    };
    let id = {
        let mut state = lock(state);
        state.taken += 1;
        let id = format!("m_{}", state.taken);
        let text = state.requests.get_mut(index).and_then(|recorded| {
            recorded.message_id = Some(id.clone());
            recorded.text().map(str::to_owned)
        });
        let said = Said {
            id: id.clone(),
            created_time: graph_time_now(),
            by_customer: false,
            text: text.unwrap_or_default(),
        };
        state
            .conversations
            .entry(recipient.clone())
            .or_default()
            .push(said);
        id
    };
    if let Some(wait) = hold {
        tokio::time::sleep(wait).await;
    }
    (200, json!({"recipient_id": recipient, "message_id": id}))
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
        // Never met here: `answer` passes a hold on to `send`.
        Fault::TakeAndHold(_) => (500, graph_error(1, None, "a hold is not a failure".into())),
    }
}

/// `GET /{version}/{me or page id}/conversations[?user_id=PSID]`: the Page's conversations
/// (with that person), most recently updated first.
fn conversations(state: &State, page: &str, query: &str) -> (u16, Value) {
    if page != "me" && page != state.page_id {
        return unsupported_get(page);
    }
    let user = query_value(query, "user_id");
    let mut listed: Vec<(&String, &Said)> = state
        .conversations
        .iter()
        .filter(|(psid, _)| user.as_ref().is_none_or(|user| user == *psid))
        .filter_map(|(psid, messages)| Some((psid, messages.last()?)))
        .collect();
    listed.sort_by(|a, b| b.1.created_time.cmp(&a.1.created_time));
    let data: Vec<Value> = listed
        .into_iter()
        .map(|(psid, last)| json!({"id": format!("t_{psid}"), "updated_time": last.created_time}))
        .collect();
    (200, json!({ "data": data }))
}

/// `GET /{version}/t_{PSID}?fields=messages` (newest first, all of them: tests keep
/// conversations shorter than a page) or `GET /{version}/m_…?fields=…`.
fn node(state: &State, id: &str, query: &str) -> (u16, Value) {
    let fields = query_value(query, "fields").unwrap_or_else(|| "id,created_time".into());
    let fields: Vec<&str> = fields.split(',').map(str::trim).collect();
    if let Some(messages) = id
        .strip_prefix("t_")
        .and_then(|psid| state.conversations.get(psid))
    {
        let mut answer = json!({ "id": id });
        if fields.contains(&"messages") {
            let data: Vec<Value> = messages
                .iter()
                .rev()
                .map(|said| json!({"id": said.id, "created_time": said.created_time}))
                .collect();
            answer["messages"] = json!({ "data": data });
        }
        return (200, answer);
    }
    let found = state.conversations.iter().find_map(|(psid, messages)| {
        let position = messages.iter().position(|said| said.id == id)?;
        Some((psid, &messages[position], messages.len() - position))
    });
    let Some((psid, said, recency)) = found else {
        return unsupported_get(id);
    };
    if recency > READABLE_RECENT_MESSAGES {
        // Meta documents the limit, not its error: a plain (#100) stands in.
        return (
            400,
            graph_error(
                100,
                None,
                "(#100) Only the 20 most recent messages of a conversation can be read".into(),
            ),
        );
    }
    let page = party(&state.page_id, "loa e2e Page");
    let customer = party(psid, &format!("Customer {psid}"));
    let (from, to) = if said.by_customer {
        (customer, page)
    } else {
        (page, customer)
    };
    let all = json!({
        "id": said.id,
        "created_time": said.created_time,
        "from": from,
        "to": {"data": [to]},
        "message": said.text,
    });
    let mut answer = serde_json::Map::new();
    for field in fields {
        if let Some(value) = all.get(field) {
            answer.insert(field.to_owned(), value.clone());
        }
    }
    (200, Value::Object(answer))
}

/// A sender or recipient as the Conversations API shows one.
fn party(id: &str, name: &str) -> Value {
    json!({"name": name, "email": format!("{id}@facebook.com"), "id": id})
}

/// Graph's answer to a node that does not exist (or may not be read).
fn unsupported_get(id: &str) -> (u16, Value) {
    (
        400,
        graph_error(
            100,
            Some(33),
            format!(
                "Unsupported get request. Object with ID '{id}' does not exist, cannot be \
                 loaded due to missing permissions, or does not support this operation."
            ),
        ),
    )
}

/// Now as Graph writes times: `2017-04-04T21:13:30+0000`.
fn graph_time_now() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let days = i64::try_from(seconds / 86_400).unwrap_or_default();
    let (year, month, day) = civil_from_days(days);
    let of_day = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+0000",
        of_day / 3_600,
        of_day % 3_600 / 60,
        of_day % 60
    )
}

/// The date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
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
