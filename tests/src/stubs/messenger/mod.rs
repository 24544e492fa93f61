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
//!
//! `send` is the Send API, `conversations` the Conversations API; `route` reads, records
//! and dispatches a request, `faults` holds what a planned Send API call meets instead.

mod conversations;
mod faults;
mod route;
mod send;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::{Value, json};

use super::StubServer;
use conversations::graph_time_now;

pub use faults::Fault;

/// The Page's id when a test names none ([`GraphApi::start`]).
pub const DEFAULT_PAGE_ID: &str = "100000000000001";

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
        let server = StubServer::start(move |request| {
            route::answer(Arc::clone(&shared), token.clone(), request)
        })
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

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}
