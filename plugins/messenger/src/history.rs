//! Whether a reply whose send a stopped host left unfinished reached the customer, read
//! from the Page's conversation with them through Meta's Conversations API (the host asks
//! before sending it again: `check-sent`). Three documented calls: the conversation with
//! the PSID, its messages (newest first, ids and times only), then the details (sender,
//! text) of the few messages that could be this send.
//!
//! A message is this send when it is newer than the last reply the host knows arrived
//! (`previous_message_id`), not older than the send's start less [`CLOCK_ALLOWANCE_MS`],
//! sent by the Page (not by the PSID), and its text is the text of the reply's LAST part:
//! only then did all of a reply sent in parts arrive. Anything unreadable or unsure is
//! [`SendCheck::Unknown`]: a wrong "arrived" loses a customer's reply, a wrong "missing"
//! only repeats one.
//!
//! The HTTP calls are passed in ([`Get`]), so all of this runs natively in unit tests.
//! Reasons never contain a URL: it carries the Page access token.

mod time;

use loa_sdk::http::{HttpError, percent_encode};
use loa_sdk::{DeliveryReceipt, SendCheck, UnfinishedSend};
use serde::Deserialize;
use serde_json::Value;

use crate::graph;

pub use time::parse_graph_time;

/// How much older than the send's start (host clock) a message may look and still be this
/// send: Graph times are whole seconds (cut, not rounded: up to 1 s early) and Meta's clock
/// and the host's differ by a little. 10 s covers both with room; more would only let an
/// older identical reply count, in the rare case the host knows of no earlier reply to stop
/// at (`previous_message_id`).
pub const CLOCK_ALLOWANCE_MS: u64 = 10_000;

/// Most messages whose details are fetched (one call each): a send is near the start of
/// the window, so a few are enough; a busier window is answered "unknown".
pub const MAX_DETAIL_LOOKUPS: usize = 6;

/// Fields asked of one message: its id and time, sender, recipient and text.
const DETAIL_FIELDS: &str = "id,created_time,from,to,message";

/// One GET: the URL, answered with the HTTP status and body, or why no answer came (a
/// reason without the URL).
pub type Get<'a> = dyn FnMut(&str) -> Result<(u16, Vec<u8>), String> + 'a;

/// Where to look and with what: the send's settings and the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// Graph API base URL, without the version (config `api_base_url`).
    pub api_base_url: String,
    /// Graph API version (config `api_version`).
    pub api_version: String,
    /// The Page access token (config `page_access_token`).
    pub page_access_token: String,
    /// The customer's page-scoped id, the reply's recipient.
    pub psid: String,
}

impl Lookup {
    /// `GET /{version}/me/conversations?platform=messenger&user_id={psid}`: the Page's
    /// conversation with the customer.
    pub fn conversation_url(&self) -> String {
        self.url(
            "me/conversations",
            &format!("platform=messenger&user_id={}&", percent_encode(&self.psid)),
        )
    }

    /// `GET /{version}/{conversation-id}?fields=messages`: its messages, newest first.
    pub fn messages_url(&self, conversation_id: &str) -> String {
        self.url(&percent_encode(conversation_id), "fields=messages&")
    }

    /// `GET /{version}/{message-id}?fields=id,created_time,from,to,message`.
    pub fn message_url(&self, message_id: &str) -> String {
        self.url(
            &percent_encode(message_id),
            &format!("fields={DETAIL_FIELDS}&"),
        )
    }

    /// `{base}/{version}/{node}?{query}access_token=…`; `query` ends with `&` or is empty.
    fn url(&self, node: &str, query: &str) -> String {
        format!(
            "{}/{}/{node}?{query}access_token={}",
            self.api_base_url.trim().trim_end_matches('/'),
            self.api_version.trim().trim_matches('/'),
            percent_encode(self.page_access_token.trim())
        )
    }
}

/// Whether the reply rendered as `parts` reached the customer since `unfinished` began.
pub fn check(
    lookup: &Lookup,
    parts: &[Value],
    unfinished: &UnfinishedSend,
    get: &mut Get<'_>,
) -> SendCheck {
    match find(lookup, parts, unfinished, get) {
        Ok(check) => check,
        Err(reason) => SendCheck::Unknown(reason),
    }
}

/// [`check`], with "unknown" as the error.
fn find(
    lookup: &Lookup,
    parts: &[Value],
    unfinished: &UnfinishedSend,
    get: &mut Get<'_>,
) -> Result<SendCheck, String> {
    let expected = expected_text(parts)?;
    let body = fetch(get, &lookup.conversation_url(), "the conversation")?;
    let conversation_id = conversation_id(&body)?;
    let body = fetch(get, &lookup.messages_url(&conversation_id), "its messages")?;
    let candidates = candidates(&parse_listing(&body)?, unfinished)?;
    let mut doubt = None;
    for id in candidates.iter().take(MAX_DETAIL_LOOKUPS) {
        let details = fetch(get, &lookup.message_url(id), "a message's details")
            .and_then(|body| parse_details(&body));
        match details {
            Ok(details) if is_the_reply(&details, &lookup.psid, &expected) => {
                return Ok(SendCheck::Arrived(DeliveryReceipt {
                    provider_message_id: Some(details.id),
                    provider_response: Some(details.raw),
                }));
            }
            Ok(_) => {}
            // Another candidate may still match; if none does, this one might have been it.
            Err(reason) => {
                doubt.get_or_insert(reason);
            }
        }
    }
    if let Some(reason) = doubt {
        return Err(reason);
    }
    if candidates.len() > MAX_DETAIL_LOOKUPS {
        return Err(format!(
            "{} messages in the conversation since the send began; the {MAX_DETAIL_LOOKUPS} \
             closest to it are not the reply, the others were not looked at",
            candidates.len()
        ));
    }
    Ok(SendCheck::Missing)
}

/// The text the customer sees in the reply's last part (a text message's `text`, a button
/// template's `text`); why not, when it has none to compare (an image, cards).
pub fn expected_text(parts: &[Value]) -> Result<String, String> {
    let last = parts
        .last()
        .ok_or("the reply renders to nothing Messenger shows")?;
    last["text"]
        .as_str()
        .or_else(|| last["attachment"]["payload"]["text"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| {
            "the reply's last part has no text to look for (an attachment or cards)".to_owned()
        })
}

/// A 2xx body of `get(url)`, or why not; `what` names the call in the reason.
fn fetch(get: &mut Get<'_>, url: &str, what: &str) -> Result<Vec<u8>, String> {
    let (status, body) =
        get(url).map_err(|reason| format!("looking up {what} failed: {reason}"))?;
    if (200..300).contains(&status) {
        Ok(body)
    } else {
        Err(format!(
            "looking up {what}: {}",
            graph::error_reason(status, &body)
        ))
    }
}

/// Why a request got no answer, without its URL (it carries the token).
pub fn transport_reason(error: &HttpError) -> String {
    match error {
        HttpError::Failed { code, .. } => code.clone(),
        HttpError::Body { reason, .. } => format!("the answer broke off: {reason}"),
        HttpError::ResponseTooLarge { limit, .. } => {
            format!("the answer is larger than {limit} bytes")
        }
        HttpError::InvalidUrl { reason, .. } => {
            format!("api_base_url is not a usable URL: {reason}")
        }
        HttpError::InvalidRequest { reason, .. } | HttpError::Json { reason, .. } => {
            format!("the request was refused by the host: {reason}")
        }
        HttpError::Status { status, body, .. } => format!("HTTP {status}: {body}"),
    }
}

#[derive(Deserialize)]
struct Conversations {
    data: Vec<ConversationEntry>,
}

#[derive(Deserialize)]
struct ConversationEntry {
    id: String,
}

/// The id (`t_…`) of the conversation in a `/me/conversations?user_id=` answer.
pub fn conversation_id(body: &[u8]) -> Result<String, String> {
    let answer: Conversations = parse(body, "the conversation list")?;
    // The customer wrote to the Page, so a conversation exists: none is a puzzle, not a
    // proof that the reply is missing.
    answer
        .data
        .into_iter()
        .next()
        .map(|entry| entry.id)
        .ok_or_else(|| "the Conversations API lists no conversation with this person".to_owned())
}

/// One message of a conversation's list: id and Graph time.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Listed {
    /// `m_…`
    pub id: String,
    /// `2017-04-04T21:13:30+0000`
    pub created_time: String,
}

/// A conversation's messages as listed, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The messages of this page of the list.
    pub messages: Vec<Listed>,
    /// Whether older messages are on further pages (`paging.next`).
    pub more: bool,
}

#[derive(Deserialize)]
struct ConversationNode {
    messages: Option<MessagePage>,
}

#[derive(Deserialize)]
struct MessagePage {
    data: Vec<Listed>,
    paging: Option<Paging>,
}

#[derive(Deserialize)]
struct Paging {
    next: Option<String>,
}

/// A `/{conversation-id}?fields=messages` answer.
pub fn parse_listing(body: &[u8]) -> Result<Listing, String> {
    let answer: ConversationNode = parse(body, "the conversation's messages")?;
    // Graph leaves out an empty edge.
    let Some(page) = answer.messages else {
        return Ok(Listing {
            messages: Vec::new(),
            more: false,
        });
    };
    Ok(Listing {
        messages: page.data,
        more: page.paging.and_then(|paging| paging.next).is_some(),
    })
}

/// The ids of the listed messages that could be this send, oldest first: the send went
/// out right after it began, so the closest are the likeliest and are looked at first.
/// Why the list cannot settle it, when it reaches neither the previous reply nor a message
/// older than the send.
pub fn candidates(listing: &Listing, unfinished: &UnfinishedSend) -> Result<Vec<String>, String> {
    let earliest_ms = unfinished.started_ms.saturating_sub(CLOCK_ALLOWANCE_MS);
    let mut candidates = Vec::new();
    let mut reached_older = false;
    for listed in &listing.messages {
        if unfinished.previous_message_id.as_deref() == Some(listed.id.as_str()) {
            reached_older = true;
            break;
        }
        let created_ms = parse_graph_time(&listed.created_time).ok_or_else(|| {
            format!(
                "message {} has a created_time that cannot be read: '{}'",
                listed.id, listed.created_time
            )
        })?;
        if created_ms < earliest_ms {
            reached_older = true;
            break;
        }
        candidates.push(listed.id.clone());
    }
    if !reached_older && listing.more {
        return Err(
            "the conversation's first page of messages is all newer than the send".to_owned(),
        );
    }
    candidates.reverse();
    Ok(candidates)
}

/// One message's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Details {
    /// `m_…`
    pub id: String,
    /// Who sent it: the Page's id or the customer's PSID.
    pub from_id: Option<String>,
    /// Its text (empty for an attachment).
    pub text: Option<String>,
    /// The answer as sent, cut for the delivery log.
    pub raw: String,
}

#[derive(Deserialize)]
struct DetailsAnswer {
    id: String,
    from: Option<Party>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct Party {
    id: String,
}

/// A `/{message-id}?fields=…` answer.
pub fn parse_details(body: &[u8]) -> Result<Details, String> {
    let answer: DetailsAnswer = parse(body, "a message's details")?;
    Ok(Details {
        id: answer.id,
        from_id: answer.from.map(|from| from.id),
        text: answer.message,
        raw: graph::cut(&String::from_utf8_lossy(body)),
    })
}

/// Whether `details` is the reply whose last part reads `expected`: sent to, not by, the
/// customer (the Page's id is not in the settings; anyone but the customer is the Page),
/// with that text. Line ends and the ends' white space are not compared.
pub fn is_the_reply(details: &Details, psid: &str, expected: &str) -> bool {
    let from_page = details.from_id.as_deref().is_some_and(|from| from != psid);
    from_page
        && details
            .text
            .as_deref()
            .is_some_and(|text| comparable(text) == comparable(expected))
}

fn comparable(text: &str) -> String {
    text.trim().replace("\r\n", "\n")
}

/// `body` as a `T`, or a reason naming `what` (without the body: it may be large).
fn parse<T: for<'de> Deserialize<'de>>(body: &[u8], what: &str) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|error| format!("cannot read {what}: {error}"))
}

#[cfg(test)]
mod tests;
