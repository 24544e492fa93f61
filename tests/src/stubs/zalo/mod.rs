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
//!
//! Each endpoint group has its module: `send` (customer-service messages), `template`
//! (ZNS), `conversation` (the history), `refresh` (OAuth); `route` reads, records and
//! dispatches a request, `faults` holds what a planned send meets instead.

mod conversation;
mod faults;
mod refresh;
mod route;
mod send;
mod template;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::StubServer;

pub use faults::Fault;

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
        let server =
            StubServer::start(move |request| route::answer(Arc::clone(&shared), request)).await;
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
        super::wait_for_requests("Zalo", timeout, || self.requests(), done).await
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.state)
    }
}

fn zalo_error(code: i64, message: &str) -> Value {
    json!({"error": code, "message": message})
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}
