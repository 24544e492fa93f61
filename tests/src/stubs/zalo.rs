//! Zalo's OpenAPI and OAuth server as the `zalo-oa` channel plugin calls them:
//! `POST /v3.0/oa/message/cs` with the OA's token in an `access_token` header and
//! `{"recipient": {"user_id"}, "message": {…}}`, answered HTTP 200 with
//! `{"error": 0, "message": "Success", "data": {"message_id", "user_id"}}` or an error
//! code in the body (-216 invalid access token, -201 invalid parameters, planned -32 rate
//! limit, -213 not a follower, -230 outside the 7-day window); and
//! `POST /v4/oa/access_token` with the app's `secret_key` header and a form
//! `refresh_token, app_id, grant_type=refresh_token`, answered with a new pair
//! (`expires_in` a string of seconds, as Zalo sends it) and spending the refresh token:
//! a second use is refused; and ZNS's `POST /message/template` (`phone`, `template_id`,
//! `template_data`, `tracking_id`) answered with `data.msg_id` or ZNS's own codes (-124
//! invalid access token, -108 phone, -109 template, -112 data); and the conversation history,
//! `GET /v2.0/oa/conversation?data={"user_id","offset","count"}`, listing the messages
//! taken for a user newest first (`src` 0: the OA's). Every request is recorded; faults are
//! planned send by send.
//!
//! The OAuth error codes are the stub's own stand-ins (Zalo's documentation gives the
//! shape, `error`, `error_name`, `error_reason`, `error_description`, not a list); the
//! plugin treats any such answer as a refusal.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Map, Value, json};

use super::{StubServer, json_response};

/// Zalo's limit on a message's text, in characters.
const MAX_TEXT_CHARS: usize = 2000;
/// Most buttons under one message.
const MAX_BUTTONS: usize = 5;
/// Longest button title, in characters.
const MAX_BUTTON_TITLE_CHARS: usize = 100;
/// Longest `oa.query.*` payload, in characters.
const MAX_QUERY_PAYLOAD_CHARS: usize = 1000;
/// How long an issued access token lives, in seconds (Zalo's 25 hours).
const ACCESS_TOKEN_SECONDS: &str = "90000";
/// Most messages one conversation page may list (Zalo's limit on `count`).
const MAX_PAGE: u64 = 10;
/// The OA's id in the conversation history (`from_id` of what it sent).
const OA_ID: &str = "stub-oa";

/// What the stub does with one planned send instead of answering it normally.
#[derive(Debug, Clone)]
pub enum Fault {
    /// HTTP 500 with an HTML page.
    ServerError,
    /// Waits this long, then answers HTTP 500 (the message was not taken; the plugin has
    /// usually given up by then).
    Stall(Duration),
    /// Takes the message (it counts as delivered, gets its `message_id` and shows in the
    /// conversation history at once) but holds the answer this long: a sender killed
    /// mid-send never learns that it arrived.
    TakeAndHold(Duration),
    /// Error -32: over the app's requests per minute.
    RateLimit,
    /// Error -213: the user does not follow the OA.
    NotFollower,
    /// Error -230: the user has not interacted with the OA in the last 7 days.
    OutsideWindow,
}

/// Which API a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v3.0/oa/message/cs`.
    Send,
    /// `POST /v4/oa/access_token`.
    Refresh,
    /// `POST /message/template` (ZNS, on business.openapi.zalo.me).
    Template,
    /// `GET /v2.0/oa/conversation` (the messages of a conversation).
    Conversation,
    /// Anything else (answered 404).
    Unknown,
}

/// One request as the stub saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Which API it was for.
    pub endpoint: Endpoint,
    /// The path requested.
    pub path: String,
    /// The `access_token` header.
    pub access_token: Option<String>,
    /// The `secret_key` header.
    pub secret_key: Option<String>,
    /// A send's JSON body, a refresh's form fields as a JSON object, a conversation read's
    /// `data` query parameter (`Null` when none of them).
    pub body: Value,
    /// The HTTP status answered; 0 while the answer is pending (a stall). A message taken
    /// and held ([`Fault::TakeAndHold`]) shows the answer it gets once the hold is over.
    pub status: u16,
    /// Zalo's `error` code in the answer, when it sent one.
    pub error: Option<i64>,
    /// The `message_id` given, when a message was taken.
    pub message_id: Option<String>,
    /// When it arrived.
    pub at: Instant,
}

impl Recorded {
    /// `recipient.user_id` of a send.
    pub fn user_id(&self) -> Option<&str> {
        self.body["recipient"]["user_id"].as_str()
    }

    /// The text of a send (empty when it has none).
    pub fn text(&self) -> &str {
        self.body["message"]["text"].as_str().unwrap_or_default()
    }

    /// Whether Zalo took the message or issued the tokens (a refresh's answer has no
    /// `error` when it succeeds).
    pub fn succeeded(&self) -> bool {
        self.status == 200 && self.error.unwrap_or(0) == 0
    }
}

struct State {
    app_id: String,
    app_secret_key: String,
    /// Access tokens Zalo accepts.
    valid_access_tokens: HashSet<String>,
    /// Refresh tokens issued, and whether each is spent.
    refresh_tokens: HashMap<String, bool>,
    /// The pair issued last.
    latest: (String, String),
    /// Pairs issued by refreshes so far.
    issued: u64,
    /// `None` answers normally; planned entries are used one per send.
    plan: VecDeque<Option<Fault>>,
    /// How long a refresh takes.
    refresh_delay: Duration,
    requests: Vec<Recorded>,
    /// Messages taken so far; numbers the `message_id`s.
    taken: u64,
    /// The customer-service messages taken, oldest first: the conversation history.
    history: Vec<Shown>,
}

/// A message taken, as the conversation history shows it.
#[derive(Debug, Clone)]
struct Shown {
    user_id: String,
    /// Wall clock when it was taken, ms since the Unix epoch.
    time_ms: u64,
    message_id: String,
    /// The `message` object sent.
    message: Value,
}

/// The running Zalo; stops when dropped.
pub struct ZaloApi {
    /// `http://127.0.0.1:<port>`, the plugin's `api_base_url` and `oauth_base_url`.
    pub base_url: String,
    state: Arc<Mutex<State>>,
    _server: StubServer,
}

impl ZaloApi {
    /// Serves the app `app_id` (secret `app_secret_key`) and one OA whose current pair is
    /// `access_token`, `refresh_token`.
    pub async fn start(
        app_id: &str,
        app_secret_key: &str,
        access_token: &str,
        refresh_token: &str,
    ) -> Self {
        let state = Arc::new(Mutex::new(State {
            app_id: app_id.to_owned(),
            app_secret_key: app_secret_key.to_owned(),
            valid_access_tokens: HashSet::from([access_token.to_owned()]),
            refresh_tokens: HashMap::from([(refresh_token.to_owned(), false)]),
            latest: (access_token.to_owned(), refresh_token.to_owned()),
            issued: 0,
            plan: VecDeque::new(),
            refresh_delay: Duration::ZERO,
            requests: Vec::new(),
            taken: 0,
            history: Vec::new(),
        }));
        let shared = Arc::clone(&state);
        let server = StubServer::start(move |request| answer(Arc::clone(&shared), request)).await;
        Self {
            base_url: format!("http://{}", server.address),
            state,
            _server: server,
        }
    }

    /// The next `count` sends (after any already planned) meet `fault`.
    pub fn fail_next(&self, count: usize, fault: Fault) {
        self.locked()
            .plan
            .extend(std::iter::repeat_n(Some(fault), count));
    }

    /// The next `count` sends (after any already planned) are answered normally: with
    /// [`ZaloApi::fail_next`] after it, a fault hits a later send.
    pub fn pass_next(&self, count: usize) {
        self.locked().plan.extend(std::iter::repeat_n(None, count));
    }

    /// Every access token issued so far expires: sends with one get error -216.
    pub fn expire_access_tokens(&self) {
        self.locked().valid_access_tokens.clear();
    }

    /// Refreshes take this long to answer (the refresh token is spent on arrival).
    pub fn delay_refreshes(&self, delay: Duration) {
        self.locked().refresh_delay = delay;
    }

    /// The pair issued last (the starting pair before any refresh).
    pub fn latest_pair(&self) -> (String, String) {
        self.locked().latest.clone()
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.locked().requests.clone()
    }

    /// The requests to `endpoint` so far, oldest first.
    pub fn calls_to(&self, endpoint: Endpoint) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|request| request.endpoint == endpoint)
            .collect()
    }

    /// The messages taken for `user_id`, oldest first.
    pub fn delivered_to(&self, user_id: &str) -> Vec<Recorded> {
        self.calls_to(Endpoint::Send)
            .into_iter()
            .filter(|request| request.succeeded() && request.user_id() == Some(user_id))
            .collect()
    }

    /// Waits until `done` holds for the requests so far, and returns them; panics with
    /// them after `timeout`.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        done: impl Fn(&[Recorded]) -> bool,
    ) -> Vec<Recorded> {
        let started = Instant::now();
        loop {
            let requests = self.requests();
            if done(&requests) {
                return requests;
            }
            assert!(
                started.elapsed() < timeout,
                "the Zalo stub did not get what was awaited within {timeout:?}; it got {requests:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.state)
    }
}

async fn answer(state: Arc<Mutex<State>>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let at = Instant::now();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let method = request.method().clone();
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let (access_token, secret_key) = (header("access_token"), header("secret_key"));
    let bytes = request
        .into_body()
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let endpoint = match (method, path.as_str()) {
        (hyper::Method::POST, "/v3.0/oa/message/cs") => Endpoint::Send,
        (hyper::Method::POST, "/v4/oa/access_token") => Endpoint::Refresh,
        (hyper::Method::POST, "/message/template") => Endpoint::Template,
        (hyper::Method::GET, "/v2.0/oa/conversation") => Endpoint::Conversation,
        _ => Endpoint::Unknown,
    };
    let body = match endpoint {
        Endpoint::Refresh => form_fields(&bytes),
        Endpoint::Conversation => form_fields(query.as_bytes())["data"]
            .as_str()
            .and_then(|data| serde_json::from_str(data).ok())
            .unwrap_or(Value::Null),
        _ => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    };
    // Recorded on arrival, so the order is the order of requests even when one stalls.
    let (index, fault, refresh_delay) = {
        let mut state = lock(&state);
        state.requests.push(Recorded {
            endpoint,
            path: path.clone(),
            access_token: access_token.clone(),
            secret_key: secret_key.clone(),
            body: body.clone(),
            status: 0,
            error: None,
            message_id: None,
            at,
        });
        let fault = if matches!(endpoint, Endpoint::Send | Endpoint::Template) {
            state.plan.pop_front().flatten()
        } else {
            None
        };
        (state.requests.len() - 1, fault, state.refresh_delay)
    };
    let take = |endpoint| match endpoint {
        Endpoint::Template => template(&state, access_token.as_deref(), &body),
        _ => send(&state, access_token.as_deref(), &body),
    };
    let (status, answer) = match endpoint {
        Endpoint::Send | Endpoint::Template => match fault {
            Some(Fault::TakeAndHold(hold)) => {
                let (status, answer) = take(endpoint);
                // Recorded before the hold: the sender may never get the answer (killed,
                // or gone after its timeout), and then this task is dropped with it.
                settle(&state, index, status, &answer);
                tokio::time::sleep(hold).await;
                (status, answer)
            }
            Some(fault) => fault_answer(&fault).await,
            None => take(endpoint),
        },
        Endpoint::Conversation => conversation(&state, access_token.as_deref(), &body),
        Endpoint::Refresh => {
            let answer = refresh(&state, secret_key.as_deref(), &body);
            tokio::time::sleep(refresh_delay).await;
            answer
        }
        Endpoint::Unknown => (
            404,
            json!({"error": 404, "message": format!("no API at {path}")}),
        ),
    };
    settle(&state, index, status, &answer);
    match answer {
        Value::String(html) => Response::builder()
            .status(status)
            .header("content-type", "text/html")
            .body(Full::new(Bytes::from(html)))
            .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))),
        answer => json_response(status, answer.to_string()),
    }
}

/// Writes the answer into request `index`'s record.
fn settle(state: &Mutex<State>, index: usize, status: u16, answer: &Value) {
    if let Some(recorded) = lock(state).requests.get_mut(index) {
        recorded.status = status;
        recorded.error = answer["error"].as_i64();
        recorded.message_id = answer["data"]["message_id"]
            .as_str()
            .or(answer["data"]["msg_id"].as_str())
            .map(str::to_owned);
    }
}

/// The answer to a fault that takes nothing.
async fn fault_answer(fault: &Fault) -> (u16, Value) {
    match fault {
        Fault::ServerError => (
            500,
            Value::String("<html><body>500 Internal Server Error</body></html>".into()),
        ),
        // `TakeAndHold` takes the message first (in `answer`); here only for completeness.
        Fault::Stall(wait) | Fault::TakeAndHold(wait) => {
            tokio::time::sleep(*wait).await;
            (500, Value::String("<html>stalled</html>".into()))
        }
        Fault::RateLimit => (200, zalo_error(-32, "Exceed rate limit of this app")),
        Fault::NotFollower => (200, zalo_error(-213, "User has not followed OA")),
        Fault::OutsideWindow => (
            200,
            zalo_error(
                -230,
                "User has not interacted with the OA in the past 7 days",
            ),
        ),
    }
}

/// A customer-service message, checked as Zalo checks it.
fn send(state: &Mutex<State>, access_token: Option<&str>, body: &Value) -> (u16, Value) {
    let token_valid =
        access_token.is_some_and(|token| lock(state).valid_access_tokens.contains(token));
    if !token_valid {
        return (200, zalo_error(-216, "Access token is invalid"));
    }
    let user = match check_message(body) {
        Ok(user) => user,
        Err(problem) => {
            return (
                200,
                zalo_error(-201, &format!("Parameters are invalid: {problem}")),
            );
        }
    };
    let message_id = {
        let mut state = lock(state);
        state.taken += 1;
        let message_id = format!("{:032x}", 0x5a10_0000_u64 + state.taken);
        state.history.push(Shown {
            user_id: user.clone(),
            time_ms: wall_clock_ms(),
            message_id: message_id.clone(),
            message: body["message"].clone(),
        });
        message_id
    };
    (
        200,
        json!({
            "data": {"message_id": message_id, "user_id": user},
            "error": 0,
            "message": "Success"
        }),
    )
}

/// A ZNS template message, checked as ZNS checks it: -124 for a bad access token, -108 a
/// phone number not in international form, -109 an empty template id, -112 template data
/// that is not an object of strings; else `data.msg_id` (ids count up with the messages').
fn template(state: &Mutex<State>, access_token: Option<&str>, body: &Value) -> (u16, Value) {
    let token_valid =
        access_token.is_some_and(|token| lock(state).valid_access_tokens.contains(token));
    if !token_valid {
        return (200, zalo_error(-124, "Access token is invalid"));
    }
    let phone = body["phone"].as_str().unwrap_or_default();
    let international = phone.starts_with("84")
        && (10..=12).contains(&phone.len())
        && phone.bytes().all(|b| b.is_ascii_digit());
    if !international {
        return (200, zalo_error(-108, "Phone number invalid"));
    }
    if body["template_id"].as_str().is_none_or(str::is_empty) {
        return (200, zalo_error(-109, "Template ID invalid"));
    }
    let data_ok = body["template_data"]
        .as_object()
        .is_some_and(|data| !data.is_empty() && data.values().all(Value::is_string));
    if !data_ok {
        return (200, zalo_error(-112, "Template data invalid"));
    }
    let msg_id = {
        let mut state = lock(state);
        state.taken += 1;
        format!("{:032x}", 0x2a50_0000_u64 + state.taken)
    };
    (
        200,
        json!({
            "error": 0,
            "message": "Success",
            "data": {
                "msg_id": msg_id,
                "sent_time": "1760000000000",
                "quota": {"dailyQuota": "500", "remainingQuota": "499"}
            }
        }),
    )
}

/// One page of the conversation with `data.user_id` (a number or a string), newest first:
/// `data.offset` messages skipped, at most `data.count` (1 to 10) listed; -216 for a bad
/// access token, -201 for parameters Zalo would refuse.
fn conversation(state: &Mutex<State>, access_token: Option<&str>, data: &Value) -> (u16, Value) {
    let state = lock(state);
    if !access_token.is_some_and(|token| state.valid_access_tokens.contains(token)) {
        return (200, zalo_error(-216, "Access token is invalid"));
    }
    let user = match &data["user_id"] {
        Value::Number(id) => Some(id.to_string()),
        Value::String(id) if !id.is_empty() => Some(id.clone()),
        _ => None,
    };
    let offset = data["offset"].as_u64();
    let count = data["count"]
        .as_u64()
        .filter(|count| (1..=MAX_PAGE).contains(count));
    let (Some(user), Some(offset), Some(count)) = (user, offset, count) else {
        return (
            200,
            zalo_error(
                -201,
                &format!(
                    "Parameters are invalid: data needs user_id, offset and count (1 to \
                     {MAX_PAGE})"
                ),
            ),
        );
    };
    let listed: Vec<Value> = state
        .history
        .iter()
        .rev()
        .filter(|shown| shown.user_id == user)
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(count).unwrap_or(usize::MAX))
        .map(shown_entry)
        .collect();
    (
        200,
        json!({"data": listed, "error": 0, "message": "Success"}),
    )
}

/// A message as the conversation history lists it: a text (buttons or not) with its
/// `message`, an image as a `photo` with its `url`.
fn shown_entry(shown: &Shown) -> Value {
    let mut entry = json!({
        "src": 0,
        "time": shown.time_ms,
        "message_id": shown.message_id,
        "from_id": OA_ID,
        "to_id": shown.user_id,
        "from_display_name": "Mây Shop",
        "to_display_name": Value::Null,
    });
    match shown.message["text"].as_str() {
        Some(text) => {
            entry["type"] = json!("text");
            entry["message"] = json!(text);
        }
        None => {
            entry["type"] = json!("photo");
            entry["url"] = shown.message["attachment"]["payload"]["elements"][0]["url"].clone();
        }
    }
    entry
}

fn wall_clock_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

/// The recipient when `body` is a message Zalo would take, else why not.
fn check_message(body: &Value) -> Result<String, String> {
    let user = body["recipient"]["user_id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .ok_or("recipient.user_id must be a non-empty string")?;
    let message = body["message"]
        .as_object()
        .ok_or("message must be an object")?;
    let text = message.get("text");
    let attachment = message.get("attachment");
    if text.is_none() && attachment.is_none() {
        return Err("message needs a text or an attachment".into());
    }
    if let Some(text) = text {
        let text = text.as_str().ok_or("message.text must be a string")?;
        check_length("message.text", text, MAX_TEXT_CHARS)?;
    }
    let Some(attachment) = attachment else {
        return Ok(user.to_owned());
    };
    if attachment["type"] != "template" {
        return Err("message.attachment.type must be template".into());
    }
    let payload = &attachment["payload"];
    match payload["template_type"].as_str() {
        None => {
            if text.is_none() {
                return Err("buttons need a message.text".into());
            }
            check_buttons(&payload["buttons"])?;
        }
        Some("media") => {
            let elements = payload["elements"]
                .as_array()
                .filter(|elements| elements.len() == 1)
                .ok_or("media elements must hold one element")?;
            let element = &elements[0];
            if element["media_type"] != "image" {
                return Err("media_type must be image".into());
            }
            let url = element["url"].as_str().unwrap_or_default();
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err("media url must be an http(s) URL".into());
            }
        }
        Some(other) => return Err(format!("template_type {other} is not supported here")),
    }
    Ok(user.to_owned())
}

fn check_buttons(buttons: &Value) -> Result<(), String> {
    let buttons = buttons
        .as_array()
        .filter(|buttons| (1..=MAX_BUTTONS).contains(&buttons.len()))
        .ok_or_else(|| format!("buttons must hold 1 to {MAX_BUTTONS} buttons"))?;
    for button in buttons {
        check_length(
            "buttons.title",
            button["title"].as_str().unwrap_or_default(),
            MAX_BUTTON_TITLE_CHARS,
        )?;
        let payload = &button["payload"];
        match button["type"].as_str().unwrap_or_default() {
            "oa.query.hide" | "oa.query.show" => check_length(
                "buttons.payload",
                payload.as_str().unwrap_or_default(),
                MAX_QUERY_PAYLOAD_CHARS,
            )?,
            "oa.open.url" => {
                let url = payload["url"].as_str().unwrap_or_default();
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err("oa.open.url needs payload.url".into());
                }
            }
            "oa.open.phone" | "oa.open.sms" => {
                if payload["phone_code"].as_str().is_none_or(str::is_empty) {
                    return Err("a phone button needs payload.phone_code".into());
                }
            }
            other => return Err(format!("button type '{other}' is not supported")),
        }
    }
    Ok(())
}

fn check_length(name: &str, value: &str, most: usize) -> Result<(), String> {
    let length = value.chars().count();
    if length == 0 || length > most {
        return Err(format!(
            "{name} must be 1 to {most} characters (got {length})"
        ));
    }
    Ok(())
}

/// A token refresh: the app's secret, the app, then a refresh token never used before.
fn refresh(state: &Mutex<State>, secret_key: Option<&str>, form: &Value) -> (u16, Value) {
    let mut state = lock(state);
    if secret_key != Some(state.app_secret_key.as_str()) {
        return (
            200,
            oauth_error(-14002, "Invalid secret key", "Secret key is invalid"),
        );
    }
    if form["app_id"].as_str() != Some(state.app_id.as_str()) {
        return (
            200,
            oauth_error(-14001, "Invalid app id", "app_id is invalid"),
        );
    }
    if form["grant_type"] != "refresh_token" {
        return (
            200,
            oauth_error(
                -14003,
                "Invalid grant type",
                "grant_type must be refresh_token",
            ),
        );
    }
    let presented = form["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    match state.refresh_tokens.get_mut(&presented) {
        Some(spent) if !*spent => *spent = true,
        _ => {
            return (
                200,
                oauth_error(
                    -14014,
                    "Invalid refresh token",
                    "Refresh token is invalid or has been used",
                ),
            );
        }
    }
    state.issued += 1;
    let access = format!(
        "zalo-at-{}-{:x}",
        state.issued,
        0xfeed_u32 + state.issued as u32
    );
    let refresh = format!(
        "zalo-rt-{}-{:x}",
        state.issued,
        0xbeef_u32 + state.issued as u32
    );
    state.valid_access_tokens.insert(access.clone());
    state.refresh_tokens.insert(refresh.clone(), false);
    state.latest = (access.clone(), refresh.clone());
    (
        200,
        json!({
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": ACCESS_TOKEN_SECONDS
        }),
    )
}

fn zalo_error(code: i64, message: &str) -> Value {
    json!({"error": code, "message": message})
}

fn oauth_error(code: i64, reason: &str, description: &str) -> Value {
    json!({
        "error_name": "Invalid parameter",
        "error_reason": reason,
        "ref_doc": "https://developers.zalo.me/docs/official-account/bat-dau/xac-thuc-va-uy-quyen-cho-ung-dung-new",
        "error_description": description,
        "error": code
    })
}

/// `a=1&b=2` as `{"a": "1", "b": "2"}`, `%XX` and `+` decoded.
fn form_fields(bytes: &[u8]) -> Value {
    let text = String::from_utf8_lossy(bytes);
    let mut fields = Map::new();
    for pair in text.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        fields.insert(form_decode(name), Value::String(form_decode(value)));
    }
    Value::Object(fields)
}

fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match (bytes[index], escaped) {
            (_, Some(byte)) => {
                decoded.push(byte);
                index += 3;
            }
            (b'+', None) => {
                decoded.push(b' ');
                index += 1;
            }
            (byte, None) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}
