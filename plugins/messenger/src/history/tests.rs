//! The Conversations API walk against Graph answers as Meta documents them, served from a
//! map of URLs.

use std::collections::HashMap;

use serde_json::json;

use super::*;

const TOKEN: &str = "EAAG token/with+odd=chars";
const PSID: &str = "PSID_LAN";
const PAGE: &str = "1029384756";
/// 2024-05-06T10:00:00Z, when the unfinished send began.
const STARTED_MS: u64 = 1_714_989_600_000;

fn lookup() -> Lookup {
    Lookup {
        api_base_url: "https://graph.example/".into(),
        api_version: "v21.0".into(),
        page_access_token: TOKEN.into(),
        psid: PSID.into(),
    }
}

fn unfinished(previous: Option<&str>) -> UnfinishedSend {
    UnfinishedSend {
        started_ms: STARTED_MS,
        previous_message_id: previous.map(str::to_owned),
        last_message_id: None,
        channel_message_ids: Vec::new(),
    }
}

fn text_parts(texts: &[&str]) -> Vec<Value> {
    texts.iter().map(|text| json!({ "text": text })).collect()
}

/// A Graph API that answers the URLs it knows and 404s the rest, counting calls.
struct FakeGraph {
    answers: HashMap<String, (u16, Vec<u8>)>,
    asked: Vec<String>,
}

impl FakeGraph {
    /// A conversation `t_1` whose messages are `(id, time, from, text)`, newest first.
    fn with_messages(messages: &[(&str, &str, &str, &str)]) -> Self {
        let lookup = lookup();
        let mut answers = HashMap::new();
        let list = json!({"data": [{"id": "t_1", "updated_time": "2024-05-06T10:00:05+0000"}]});
        answers.insert(
            lookup.conversation_url(),
            (200, list.to_string().into_bytes()),
        );
        let listed: Vec<Value> = messages
            .iter()
            .map(|(id, time, _, _)| json!({"id": id, "created_time": time}))
            .collect();
        let node = json!({"messages": {"data": listed}, "id": "t_1"});
        answers.insert(
            lookup.messages_url("t_1"),
            (200, node.to_string().into_bytes()),
        );
        for (id, time, from, text) in messages {
            let to = if *from == PSID { PAGE } else { PSID };
            let details = json!({
                "id": id,
                "created_time": time,
                "from": {"id": from, "name": "Someone"},
                "to": {"data": [{"id": to}]},
                "message": text,
            });
            answers.insert(
                lookup.message_url(id),
                (200, details.to_string().into_bytes()),
            );
        }
        Self {
            answers,
            asked: Vec::new(),
        }
    }

    fn answer(&mut self, url: &str, status: u16, body: Value) {
        self.answers
            .insert(url.to_owned(), (status, body.to_string().into_bytes()));
    }

    fn check(&mut self, parts: &[Value], unfinished: &UnfinishedSend) -> SendCheck {
        let mut get = |url: &str| {
            self.asked.push(url.to_owned());
            Ok(self
                .answers
                .get(url)
                .cloned()
                .unwrap_or((404, b"{}".to_vec())))
        };
        check(&lookup(), parts, unfinished, &mut get)
    }
}

fn unknown_reason(check: &SendCheck) -> &str {
    match check {
        SendCheck::Unknown(reason) => reason,
        other => panic!("expected unknown, got {other:?}"),
    }
}

#[test]
fn urls_follow_the_documented_paths_with_the_token_encoded() {
    let lookup = lookup();
    let token = "EAAG%20token%2Fwith%2Bodd%3Dchars";
    assert_eq!(
        lookup.conversation_url(),
        format!(
            "https://graph.example/v21.0/me/conversations?platform=messenger&user_id=PSID_LAN&access_token={token}"
        )
    );
    assert_eq!(
        lookup.messages_url("t_10"),
        format!("https://graph.example/v21.0/t_10?fields=messages&access_token={token}")
    );
    assert_eq!(
        lookup.message_url("m_a/b"),
        format!(
            "https://graph.example/v21.0/m_a%2Fb?fields=id,created_time,from,to,message&access_token={token}"
        )
    );
}

#[test]
fn the_text_looked_for_is_the_last_parts() {
    let parts = text_parts(&["part one", "part two"]);
    assert_eq!(expected_text(&parts).as_deref(), Ok("part two"));
    let template = json!({"attachment": {"type": "template", "payload": {
        "template_type": "button", "text": "Pick one", "buttons": []}}});
    assert_eq!(expected_text(&[template]).as_deref(), Ok("Pick one"));
}

#[test]
fn a_reply_ending_in_an_image_or_cards_has_nothing_to_look_for() {
    let image = json!({"attachment": {"type": "image", "payload": {"url": "https://x/y.png"}}});
    assert!(expected_text(&[json!({"text": "look"}), image]).is_err());
    let cards = json!({"attachment": {"type": "template", "payload": {
        "template_type": "generic", "elements": [{"title": "Shoe"}]}}});
    assert!(expected_text(std::slice::from_ref(&cards)).is_err());
    assert!(expected_text(&[]).is_err());

    let mut graph = FakeGraph::with_messages(&[]);
    let check = graph.check(&[cards], &unfinished(None));
    assert!(unknown_reason(&check).contains("no text"), "{check:?}");
    assert!(graph.asked.is_empty(), "looked up for nothing");
}

#[test]
fn the_reply_found_after_the_send_began_has_arrived() {
    let mut graph = FakeGraph::with_messages(&[
        ("m_3", "2024-05-06T10:00:04+0000", PSID, "thanks!"),
        ("m_2", "2024-05-06T10:00:01+0000", PAGE, "We ship COD."),
        ("m_1", "2024-05-06T09:59:58+0000", PSID, "COD?"),
    ]);
    let check = graph.check(&text_parts(&["We ship COD."]), &unfinished(Some("m_0")));
    let SendCheck::Arrived(receipt) = check else {
        panic!("expected arrived, got {check:?}");
    };
    assert_eq!(receipt.provider_message_id.as_deref(), Some("m_2"));
    let response = receipt.provider_response.unwrap_or_default();
    assert!(response.contains("\"id\":\"m_2\""), "{response}");
    // The closest to the send first: m_1 (the question, inside the allowance), then m_2.
    let details: Vec<&String> = graph
        .asked
        .iter()
        .filter(|url| url.contains("fields=id,"))
        .collect();
    assert_eq!(details.len(), 2, "{:#?}", graph.asked);
    assert!(details[0].contains("/m_1?"));
}

#[test]
fn nothing_from_the_page_with_that_text_since_the_send_began_is_missing() {
    let mut graph = FakeGraph::with_messages(&[
        ("m_3", "2024-05-06T10:00:04+0000", PSID, "We ship COD."),
        ("m_2", "2024-05-06T10:00:01+0000", PAGE, "Something else"),
        // Older than the start less the allowance: an earlier, identical reply.
        ("m_1", "2024-05-06T09:59:49+0000", PAGE, "We ship COD."),
    ]);
    let check = graph.check(&text_parts(&["We ship COD."]), &unfinished(None));
    assert_eq!(check, SendCheck::Missing);
    assert!(!graph.asked.iter().any(|url| url.contains("/m_1?")));
}

#[test]
fn the_walk_stops_at_the_reply_the_host_knows_arrived() {
    // Within the allowance, but it is the previous reply: it cannot be this send.
    let mut graph =
        FakeGraph::with_messages(&[("m_1", "2024-05-06T09:59:59+0000", PAGE, "We ship COD.")]);
    let check = graph.check(&text_parts(&["We ship COD."]), &unfinished(Some("m_1")));
    assert_eq!(check, SendCheck::Missing);
}

#[test]
fn a_reply_in_parts_has_arrived_only_with_its_last_part() {
    let messages = [
        ("m_2", "2024-05-06T10:00:00+0000", PAGE, "first half"),
        ("m_1", "2024-05-06T09:59:40+0000", PSID, "tell me all"),
    ];
    let parts = text_parts(&["first half", "second half"]);
    let mut graph = FakeGraph::with_messages(&messages);
    assert_eq!(graph.check(&parts, &unfinished(None)), SendCheck::Missing);

    let mut graph = FakeGraph::with_messages(&[
        ("m_3", "2024-05-06T10:00:01+0000", PAGE, "second half"),
        messages[0],
        messages[1],
    ]);
    let check = graph.check(&parts, &unfinished(None));
    assert!(matches!(check, SendCheck::Arrived(_)), "{check:?}");
}

#[test]
fn a_message_by_the_customer_with_the_same_text_is_not_the_reply() {
    let details = Details {
        id: "m_1".into(),
        from_id: Some(PSID.into()),
        text: Some("ok".into()),
        raw: String::new(),
    };
    assert!(!is_the_reply(&details, PSID, "ok"));
    let from_page = Details {
        from_id: Some(PAGE.into()),
        text: Some(" ok\r\n".into()),
        ..details.clone()
    };
    assert!(is_the_reply(&from_page, PSID, "ok"));
    let unknown_sender = Details {
        from_id: None,
        ..from_page
    };
    assert!(!is_the_reply(&unknown_sender, PSID, "ok"));
}

#[test]
fn a_failed_detail_lookup_makes_a_missing_reply_unknown_but_not_a_found_one() {
    let messages = [
        ("m_2", "2024-05-06T10:00:02+0000", PAGE, "We ship COD."),
        ("m_1", "2024-05-06T10:00:01+0000", PAGE, "Hello"),
    ];
    let parts = text_parts(&["We ship COD."]);
    let mut graph = FakeGraph::with_messages(&messages);
    let error = json!({"error": {"message": "Please reduce the amount of data", "code": 1}});
    graph.answer(&lookup().message_url("m_1"), 500, error.clone());
    let check = graph.check(&parts, &unfinished(None));
    assert!(matches!(check, SendCheck::Arrived(_)), "{check:?}");

    let mut graph = FakeGraph::with_messages(&messages);
    graph.answer(&lookup().message_url("m_2"), 500, error);
    let check = graph.check(&parts, &unfinished(None));
    let reason = unknown_reason(&check);
    assert!(reason.contains("Graph API error 1"), "{reason}");
}

#[test]
fn graph_errors_are_unknown_and_never_show_the_token() {
    let mut graph = FakeGraph::with_messages(&[]);
    let error = json!({"error": {
        "message": "Invalid OAuth access token - Cannot parse access token",
        "type": "OAuthException", "code": 190, "fbtrace_id": "AbC"}});
    graph.answer(&lookup().conversation_url(), 400, error);
    let check = graph.check(&text_parts(&["hi"]), &unfinished(None));
    let reason = unknown_reason(&check);
    assert!(
        reason.contains("190") && reason.contains("HTTP 400"),
        "{reason}"
    );
    assert!(!reason.contains("EAAG") && !reason.contains("access_token="));
}

#[test]
fn a_lookup_without_an_answer_is_unknown() {
    let mut get = |_: &str| Err("connection refused".to_owned());
    let check = check(&lookup(), &text_parts(&["hi"]), &unfinished(None), &mut get);
    let reason = unknown_reason(&check);
    assert!(reason.contains("connection refused"), "{reason}");
}

#[test]
fn no_conversation_with_the_customer_is_unknown_not_missing() {
    let mut graph = FakeGraph::with_messages(&[]);
    graph.answer(&lookup().conversation_url(), 200, json!({"data": []}));
    let check = graph.check(&text_parts(&["hi"]), &unfinished(None));
    assert!(unknown_reason(&check).contains("no conversation"));
}

#[test]
fn a_busy_conversation_is_unknown_when_the_reply_is_not_among_the_closest() {
    let chatter: Vec<(String, String)> = (0..=MAX_DETAIL_LOOKUPS)
        .map(|second| {
            (
                format!("m_{second}"),
                format!("2024-05-06T10:00:{:02}+0000", 59 - second),
            )
        })
        .collect();
    let messages: Vec<(&str, &str, &str, &str)> = chatter
        .iter()
        .map(|(id, time)| (id.as_str(), time.as_str(), PSID, "hello?"))
        .collect();
    let mut graph = FakeGraph::with_messages(&messages);
    let check = graph.check(&text_parts(&["We ship COD."]), &unfinished(None));
    assert!(
        unknown_reason(&check).contains("not looked at"),
        "{check:?}"
    );
    let lookups = graph.asked.iter().filter(|url| url.contains("fields=id,"));
    assert_eq!(lookups.count(), MAX_DETAIL_LOOKUPS);
}

#[test]
fn a_first_page_all_newer_than_the_send_cannot_settle_it() {
    let listing = Listing {
        messages: vec![Listed {
            id: "m_9".into(),
            created_time: "2024-05-06T10:00:09+0000".into(),
        }],
        more: true,
    };
    assert!(candidates(&listing, &unfinished(None)).is_err());
    let complete = Listing {
        more: false,
        ..listing
    };
    assert_eq!(
        candidates(&complete, &unfinished(None)),
        Ok(vec!["m_9".to_owned()])
    );
}

#[test]
fn an_unreadable_time_is_unknown() {
    let listing = Listing {
        messages: vec![Listed {
            id: "m_9".into(),
            created_time: "yesterday".into(),
        }],
        more: false,
    };
    let reason = candidates(&listing, &unfinished(None)).unwrap_err();
    assert!(reason.contains("yesterday"), "{reason}");
}

#[test]
fn graph_answers_are_read_as_documented() {
    let list = br#"{"data":[{"id":"t_10","updated_time":"2024-05-06T10:00:05+0000"}]}"#;
    assert_eq!(conversation_id(list).as_deref(), Ok("t_10"));
    let node = br#"{"messages":{"data":[{"id":"m_1","created_time":"2017-04-04T21:13:30+0000"}],
        "paging":{"cursors":{"after":"QVFI"},"next":"https://graph.example/next"}},"id":"t_10"}"#;
    let listing = parse_listing(node).expect("a listing");
    assert_eq!(listing.messages.len(), 1);
    assert!(listing.more);
    let empty = parse_listing(br#"{"id":"t_10"}"#).expect("an empty listing");
    assert!(empty.messages.is_empty() && !empty.more);
    assert!(parse_listing(b"<html>").is_err());
    let details = parse_details(
        br#"{"id":"m_1","created_time":"2017-04-04T21:13:30+0000",
            "from":{"id":"1029384756","name":"Shop"},"to":{"data":[{"id":"PSID_LAN"}]},
            "message":"We ship COD."}"#,
    )
    .expect("details");
    assert_eq!(details.from_id.as_deref(), Some(PAGE));
    assert_eq!(details.text.as_deref(), Some("We ship COD."));
}
