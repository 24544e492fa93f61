//! The Conversations API, read from what the stub took and what tests say the customer
//! wrote: a Page's conversations, a conversation's messages and one message, in Graph's
//! shapes and with Meta's limit on reading old messages.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::route::query_value;
use super::{Said, State, graph_error};

/// How many of a conversation's most recent messages can be read one by one: Meta's limit.
const READABLE_RECENT_MESSAGES: usize = 20;

/// `GET /{version}/{me or page id}/conversations[?user_id=PSID]`: the Page's conversations
/// (with that person), most recently updated first.
pub(super) fn conversations(state: &State, page: &str, query: &str) -> (u16, Value) {
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
pub(super) fn node(state: &State, id: &str, query: &str) -> (u16, Value) {
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
pub(super) fn graph_time_now() -> String {
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
