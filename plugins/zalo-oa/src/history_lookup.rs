//! The HTTP side of `history`, for `check-sent`: reads Zalo's record of the conversation
//! page by page with the OA's token until `history` can tell whether an unfinished send
//! arrived.

use std::time::Duration;

use loa_sdk::http::Request;
use loa_sdk::progress;
use loa_sdk::{ConversationRef, DeliveryError, Message, SendCheck, UnfinishedSend, clock, log};

use crate::credentials::Credentials;
use crate::history::{self, Logged, PageError, Scan, Sought};
use crate::render;
use crate::settings::Settings;
use crate::token::TokenRecord;
use crate::{MAX_ANSWER_BYTES, MIN_REQUEST_MS, REQUEST_TIMEOUT_MS};

/// Whether `message`'s last Zalo message is in the conversation's history since the
/// unfinished send began (`history`); `Err` says why Zalo's history cannot tell.
pub fn look_up_sent(
    conversation: &ConversationRef,
    message: &Message,
    unfinished: &UnfinishedSend,
) -> Result<SendCheck, String> {
    let started = clock::now_ms();
    let settings = Settings::load()?;
    let rendered = render::render(message);
    let text = history::last_text(&rendered.parts)?;
    let sought = Sought::new(
        text,
        unfinished.previous_message_id.as_deref(),
        unfinished.started_ms,
    );
    let credentials = settings.credentials(
        &conversation.channel_id,
        &conversation.conversation_id,
        started,
    );
    let no_token = |error: DeliveryError| {
        format!(
            "no usable Zalo access token to read the conversation: {}",
            error.reason()
        )
    };
    let user = conversation.contact.channel_user_id.as_str();
    let mut token = credentials.current().map_err(no_token)?;
    let mut refreshed = false;
    for page_number in 0..history::MAX_PAGES {
        let offset = page_number * history::PAGE_SIZE;
        let page = loop {
            match read_history_page(&settings.api_base_url, user, offset, &token, &credentials) {
                Ok(page) => break page,
                Err(PageError::AccessToken(reason)) if !refreshed => {
                    log::info(
                        "Zalo rejected the access token; refreshing",
                        &[("answer", &reason)],
                    );
                    refreshed = true;
                    token = credentials.after_rejection(&token).map_err(no_token)?;
                }
                Err(PageError::AccessToken(reason)) => {
                    return Err(format!("{reason}, even with a freshly refreshed token"));
                }
                Err(PageError::Unreadable(reason)) => {
                    return Err(format!("reading Zalo's conversation history: {reason}"));
                }
            }
        };
        match history::scan(&sought, &page) {
            Scan::Found(found) => {
                // The send got to its end at Zalo: a record of its parts would make the same
                // text, sent again within the hour, start half-way.
                if rendered.parts.len() > 1 {
                    progress::forget(&progress::key(&conversation.conversation_id));
                }
                return Ok(SendCheck::Arrived(history::receipt(&found)));
            }
            Scan::Absent => return Ok(SendCheck::Missing),
            Scan::ReadOn => {}
        }
    }
    Err(format!(
        "the conversation's last {} messages on Zalo are all newer than the send, and none \
         is it; not reading further",
        history::MAX_PAGES * history::PAGE_SIZE
    ))
}

/// One page of the conversation with `user`, newest first.
fn read_history_page(
    api_base_url: &str,
    user: &str,
    offset: u32,
    token: &TokenRecord,
    credentials: &Credentials,
) -> Result<Vec<Logged>, PageError> {
    let left = credentials.deadline_ms.saturating_sub(clock::now_ms());
    if left < MIN_REQUEST_MS {
        return Err(PageError::Unreadable("this call's time ran out".into()));
    }
    let response = Request::get(history::page_url(api_base_url, user, offset))
        .header("access_token", &token.access_token)
        .header("accept", "application/json")
        .timeout(Duration::from_millis(left.min(REQUEST_TIMEOUT_MS)))
        .max_response_bytes(MAX_ANSWER_BYTES)
        .send()
        .map_err(|error| PageError::Unreadable(error.to_string()))?;
    history::parse_page(response.status, &response.body)
}
