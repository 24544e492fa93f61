//! A bot's FAQ and documents over the admin API, against the real `loa serve` over real
//! sockets, as the shop's owner logged in: FAQ and document CRUD with every refusal's
//! JSON shape, an entry added over HTTP answered on the widget at once, and writes in the
//! audit log. Who may call which route is the isolation matrix's (`isolation_matrix.rs`).

use loa_e2e::accounts::{DEMO_OWNER, call, demo_shop_with_owner, login};
use loa_e2e::http::request_with_headers;
use loa_e2e::serve::Server;
use loa_e2e::widget::{Visitor, text};
use serde_json::{Value, json};

/// The demo shop's FAQ, applied with the tenant.
const DEMO_FAQ_ENTRIES: usize = 50;
/// The demo bot's routes.
const BOT: &str = "/v1/tenants/may/bots/may";
const POLICY_MD: &str = "# Chính sách đổi trả\n\nMây nhận đổi trả trong 7 ngày kể từ khi bạn nhận hàng, sản phẩm còn nguyên tem mác và chưa qua sử dụng.\n\n## Phí đổi trả\n\nĐổi size miễn phí một lần; trả hàng do đổi ý thì bạn chịu phí vận chuyển hai chiều.\n";

/// The demo shop served, with its owner logged in.
struct Shop {
    server: Server,
    token: String,
    _data: tempfile::TempDir,
}

/// The demo shop (tenant and bot `may`, 50 FAQ entries) with an owner, `extra` appended
/// to its `loa.toml`, served with the knowledge tier or without.
async fn demo_shop(extra: &str, knowledge: bool) -> Shop {
    let (data, password) = demo_shop_with_owner(extra);
    let flags: &[&str] = if knowledge { &[] } else { &["--no-knowledge"] };
    let server = Server::start_with_knowledge(data.path(), flags.iter().copied());
    let token = login(server.base_url(), DEMO_OWNER, &password).await.access;
    Shop {
        server,
        token,
        _data: data,
    }
}

/// `method path` as the owner, with a JSON body (empty: none).
async fn admin(shop: &Shop, method: &str, path: &str, body: &str) -> (u16, Value) {
    let authorization = format!("Bearer {}", shop.token);
    let headers = [
        ("authorization", authorization.as_str()),
        ("content-type", "application/json"),
    ];
    let url = format!("{}{path}", shop.server.base_url());
    request_with_headers(method, &url, &headers, body.as_bytes().to_vec()).await
}

/// `PUT path` as the owner with a file as the body.
async fn upload(shop: &Shop, path: &str, bytes: &[u8]) -> (u16, Value) {
    let authorization = format!("Bearer {}", shop.token);
    let url = format!("{}{path}", shop.server.base_url());
    let headers = [("authorization", authorization.as_str())];
    request_with_headers("PUT", &url, &headers, bytes.to_vec()).await
}

/// Asserts `{"error": {"code": code, "message": "…"}}` and nothing else, with `status`.
fn assert_error(answer: &(u16, Value), status: u16, code: &str) -> String {
    let (got, body) = answer;
    assert_eq!(*got, status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "a message for a person: {body}");
    assert_eq!(
        body.as_object().map(|object| object.len()),
        Some(1),
        "{body}"
    );
    assert_eq!(
        body["error"].as_object().map(|e| e.len()),
        Some(2),
        "{body}"
    );
    message.to_owned()
}

async fn faq_ids(shop: &Shop) -> Vec<String> {
    let (status, body) = admin(shop, "GET", &format!("{BOT}/faq"), "").await;
    assert_eq!(status, 200, "{body}");
    body["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| entry["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// The tenant's audit lines, newest first.
async fn audit_actions(shop: &Shop) -> Vec<(String, Value)> {
    let answer = call(
        shop.server.base_url(),
        Some(&shop.token),
        "GET",
        "/v1/tenants/may/audit?limit=200",
        None,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| {
            (
                entry["action"].as_str().unwrap_or_default().to_owned(),
                entry["detail"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn faq_entries_are_created_read_and_deleted() {
    let shop = demo_shop("", false).await;
    assert_eq!(faq_ids(&shop).await.len(), DEMO_FAQ_ENTRIES);

    let entry = json!({"id": "faq-gift", "question": "Có thêu tên lên áo không?", "answer": "Có ạ, phí 30.000đ."});
    let (status, body) = admin(
        &shop,
        "POST",
        "/v1/tenants/may/bots/may/faq",
        &entry.to_string(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["entry"], entry, "{body}");
    assert!(
        body.get("sync").is_none(),
        "no knowledge tier, no sync: {body}"
    );

    let again = admin(
        &shop,
        "POST",
        "/v1/tenants/may/bots/may/faq",
        &entry.to_string(),
    )
    .await;
    let message = assert_error(&again, 409, "faq_exists");
    assert!(message.contains("faq-gift"), "{message}");

    let (status, body) = admin(&shop, "GET", "/v1/tenants/may/bots/may/faq/faq-gift", "").await;
    assert_eq!((status, &body["entry"]), (200, &entry), "{body}");
    assert_eq!(faq_ids(&shop).await.len(), DEMO_FAQ_ENTRIES + 1);

    let (status, body) = admin(&shop, "DELETE", "/v1/tenants/may/bots/may/faq/faq-gift", "").await;
    assert_eq!(status, 204, "{body}");
    let gone = admin(&shop, "DELETE", "/v1/tenants/may/bots/may/faq/faq-gift", "").await;
    assert_error(&gone, 404, "faq_not_found");
    let gone = admin(&shop, "GET", "/v1/tenants/may/bots/may/faq/faq-gift", "").await;
    assert_error(&gone, 404, "faq_not_found");
    assert_eq!(faq_ids(&shop).await.len(), DEMO_FAQ_ENTRIES);

    // Both writes are in the audit log, newest first; the refused ones are not.
    let audit = audit_actions(&shop).await;
    let writes: Vec<_> = audit
        .iter()
        .filter(|(action, _)| action.starts_with("faq."))
        .collect();
    assert_eq!(writes.len(), 2, "{audit:?}");
    assert_eq!(writes[0].0, "faq.deleted");
    assert_eq!(writes[1].0, "faq.created");
    assert_eq!(writes[1].1["entry"], "faq-gift", "{audit:?}");
}

#[tokio::test]
async fn bad_entries_are_refused_and_nothing_is_stored() {
    let shop = demo_shop("", false).await;
    let empty = json!({"id": "x", "question": "  ", "answer": "A."});
    let answer = admin(
        &shop,
        "POST",
        "/v1/tenants/may/bots/may/faq",
        &empty.to_string(),
    )
    .await;
    let message = assert_error(&answer, 400, "invalid_faq");
    assert!(message.contains("question is empty"), "{message}");

    let huge = json!({"id": "y", "question": "a".repeat(501), "answer": "A."});
    let answer = admin(
        &shop,
        "POST",
        "/v1/tenants/may/bots/may/faq",
        &huge.to_string(),
    )
    .await;
    let message = assert_error(&answer, 400, "invalid_faq");
    assert!(message.contains("too long"), "{message}");

    let good = json!({"id": "ok", "question": "Q?", "answer": "A."});
    let whole = json!({"entries": [good, {"id": "z", "question": "Q?", "answer": ""}, huge]});
    let answer = admin(
        &shop,
        "PUT",
        "/v1/tenants/may/bots/may/faq",
        &whole.to_string(),
    )
    .await;
    let message = assert_error(&answer, 400, "invalid_faq");
    assert!(
        message.contains("entries[1]") && message.contains("answer is empty"),
        "{message}"
    );
    assert!(message.contains("entries[2]"), "{message}");

    let ids = faq_ids(&shop).await;
    assert_eq!(ids.len(), DEMO_FAQ_ENTRIES, "nothing stored: {ids:?}");
    assert!(
        !ids.iter()
            .any(|id| ["ok", "x", "y", "z"].contains(&id.as_str()))
    );
}

#[tokio::test]
async fn put_upserts_the_entry_named_in_the_path() {
    let shop = demo_shop("", false).await;
    let body = json!({"question": "Có thêu tên không?", "answer": "Có ạ."}).to_string();
    let (status, answer) = admin(&shop, "PUT", "/v1/tenants/may/bots/may/faq/faq-new", &body).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["entry"]["id"], "faq-new", "{answer}");

    let body = json!({"id": "faq-new", "question": "Có thêu tên không?", "answer": "Có, 30.000đ."});
    let (status, answer) = admin(
        &shop,
        "PUT",
        "/v1/tenants/may/bots/may/faq/faq-new",
        &body.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let (_, read) = admin(&shop, "GET", "/v1/tenants/may/bots/may/faq/faq-new", "").await;
    assert_eq!(read["entry"]["answer"], "Có, 30.000đ.", "{read}");

    let other = json!({"id": "faq-other", "question": "Q?", "answer": "A."}).to_string();
    let answer = admin(&shop, "PUT", "/v1/tenants/may/bots/may/faq/faq-new", &other).await;
    assert_error(&answer, 400, "faq_id_mismatch");
}

#[tokio::test]
async fn replacing_the_whole_faq_is_answered_at_once_on_the_widget() {
    let shop = demo_shop("", false).await;
    let mut visitor = Visitor::connect(shop.server.base_url(), "may")
        .await
        .expect("the demo bot exists");
    visitor.hello(None, None).await;
    // Loads the FAQ into the orchestrator's cache, which the replacement must drop.
    visitor.say("q1", "shop có ship COD không?").await;
    assert!(text(&visitor.bot_reply().await).starts_with("Có ạ, Mây giao hàng COD"));

    let entries = json!({"entries": [
        {"id": "a", "question": "Mây có thêu tên lên áo không?", "answer": "Có ạ, thêu tên 30.000đ."},
        {"id": "b", "question": "Mây mở cửa mấy giờ?", "answer": "Từ 9 giờ đến 21 giờ ạ."},
    ]});
    let (status, body) = admin(
        &shop,
        "PUT",
        "/v1/tenants/may/bots/may/faq",
        &entries.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["count"], &body["added"], &body["removed"]),
        (&json!(2), &json!(2), &json!(DEMO_FAQ_ENTRIES)),
        "{body}"
    );
    assert_eq!(faq_ids(&shop).await, ["a", "b"]);

    visitor.say("q2", "Mây có thêu tên lên áo không?").await;
    let reply = visitor.bot_reply().await;
    assert_eq!(text(&reply), "Có ạ, thêu tên 30.000đ.", "{reply}");
}

#[tokio::test]
async fn documents_are_uploaded_listed_read_and_deleted() {
    let shop = demo_shop("", false).await;
    let path = "/v1/tenants/may/bots/may/documents/chinh-sach-doi-tra.md";
    let (status, body) = upload(&shop, path, POLICY_MD.as_bytes()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["unchanged"], false, "{body}");
    let document = &body["document"];
    assert_eq!(document["id"], "chinh-sach-doi-tra.md", "{body}");
    assert_eq!(document["title"], "Chính sách đổi trả", "{body}");
    assert!(document["chunk_count"].as_u64() >= Some(1), "{body}");
    let sha = document["sha256"].as_str().expect("sha256").to_owned();

    let (status, body) = upload(&shop, path, POLICY_MD.as_bytes()).await;
    assert_eq!((status, &body["unchanged"]), (200, &json!(true)), "{body}");
    assert_eq!(body["document"]["sha256"], sha, "{body}");
    let changed = format!("{POLICY_MD}\nHàng giảm giá không đổi trả.\n");
    let (status, body) = upload(&shop, path, changed.as_bytes()).await;
    assert_eq!((status, &body["unchanged"]), (200, &json!(false)), "{body}");

    let (status, body) = admin(&shop, "GET", "/v1/tenants/may/bots/may/documents", "").await;
    assert_eq!(status, 200, "{body}");
    let listed = body["documents"].as_array().expect("documents");
    assert_eq!(listed.len(), 1, "{body}");
    for field in [
        "id",
        "title",
        "source",
        "sha256",
        "chunk_count",
        "updated_at_ms",
    ] {
        assert!(!listed[0][field].is_null(), "{field}: {body}");
    }
    assert!(
        listed[0].get("chunks").is_none(),
        "a list carries no chunks: {body}"
    );

    let (status, body) = admin(&shop, "GET", path, "").await;
    assert_eq!(status, 200, "{body}");
    let chunks = body["document"]["chunks"].as_array().expect("chunks");
    assert!(chunks.iter().any(|chunk| {
        chunk["text"]
            .as_str()
            .is_some_and(|text| text.contains("Hàng giảm giá"))
    }));

    let (status, _) = admin(&shop, "DELETE", path, "").await;
    assert_eq!(status, 204);
    assert_error(
        &admin(&shop, "GET", path, "").await,
        404,
        "document_not_found",
    );
    assert_error(
        &admin(&shop, "DELETE", path, "").await,
        404,
        "document_not_found",
    );
}

#[tokio::test]
async fn unreadable_documents_are_refused_with_their_reason() {
    let shop = demo_shop("[http]\nmax_body_kib = 4\n", false).await;
    let latin1 = upload(
        &shop,
        "/v1/tenants/may/bots/may/documents/gia.md",
        b"# Gi\xe1 \n\nv\xe0ng",
    )
    .await;
    let message = assert_error(&latin1, 422, "document_not_utf8");
    assert!(message.contains("UTF-8"), "{message}");
    let docx = upload(
        &shop,
        "/v1/tenants/may/bots/may/documents/chinh-sach.docx",
        b"PK\x03\x04",
    )
    .await;
    let message = assert_error(&docx, 415, "unsupported_document");
    assert!(message.contains(".docx"), "{message}");
    let empty = upload(&shop, "/v1/tenants/may/bots/may/documents/trong.txt", b"").await;
    assert_error(&empty, 422, "document_empty");
    let blank = upload(
        &shop,
        "/v1/tenants/may/bots/may/documents/trong.md",
        b" \n\n ",
    )
    .await;
    assert_error(&blank, 422, "document_empty");
    let big = "Mây giao hàng toàn quốc. ".repeat(400);
    let answer = upload(
        &shop,
        "/v1/tenants/may/bots/may/documents/lon.txt",
        big.as_bytes(),
    )
    .await;
    let message = assert_error(&answer, 413, "body_too_large");
    assert!(message.contains("4 KiB"), "{message}");

    let (status, body) = admin(&shop, "GET", "/v1/tenants/may/bots/may/documents", "").await;
    assert_eq!((status, &body["documents"]), (200, &json!([])), "{body}");
}

#[tokio::test]
async fn an_unknown_bot_is_404_and_bad_json_is_400() {
    let shop = demo_shop("", false).await;
    for (method, path) in [
        ("GET", "/v1/tenants/may/bots/nobody/faq"),
        ("GET", "/v1/tenants/may/bots/nobody/faq/faq-01"),
        ("DELETE", "/v1/tenants/may/bots/nobody/faq/faq-01"),
        ("GET", "/v1/tenants/may/bots/nobody/documents"),
        ("GET", "/v1/tenants/may/bots/nobody/documents/a.md"),
    ] {
        let answer = admin(&shop, method, path, "").await;
        let message = assert_error(&answer, 404, "bot_not_found");
        assert!(message.contains("nobody"), "{message}");
    }
    let answer = upload(&shop, "/v1/tenants/may/bots/nobody/documents/a.md", b"# A").await;
    assert_error(&answer, 404, "bot_not_found");

    for body in [
        "{\"id\": \"x\", \"question\":",
        "{\"id\": \"x\", \"question\": \"Q?\", \"answer\": \"A\", \"colour\": 1}",
        "[1, 2]",
    ] {
        let answer = admin(&shop, "POST", "/v1/tenants/may/bots/may/faq", body).await;
        assert_error(&answer, 400, "invalid_json");
    }
    let answer = admin(
        &shop,
        "PUT",
        "/v1/tenants/may/bots/may/faq",
        "{\"entries\": 3}",
    )
    .await;
    let message = assert_error(&answer, 400, "invalid_json");
    assert!(
        message.contains("entries"),
        "serde names the field: {message}"
    );
    assert_eq!(faq_ids(&shop).await.len(), DEMO_FAQ_ENTRIES);
}

#[tokio::test]
async fn an_entry_added_over_http_is_answered_without_accents() {
    let shop = demo_shop("", true).await;
    let entry = json!({
        "id": "faq-theu-ten",
        "question": "Shop có nhận thêu tên theo yêu cầu không?",
        "answer": "Dạ có, Mây nhận thêu tên theo yêu cầu với phí 30.000đ mỗi sản phẩm, thêm 2 ngày làm việc ạ.",
    });
    let (status, body) = admin(
        &shop,
        "POST",
        "/v1/tenants/may/bots/may/faq",
        &entry.to_string(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(body.get("sync_error").is_none(), "{body}");
    assert!(body["sync"]["embedded"].as_u64() >= Some(1), "{body}");

    let mut visitor = Visitor::connect(shop.server.base_url(), "may")
        .await
        .expect("the demo bot exists");
    visitor.hello(None, None).await;
    visitor
        .say("q1", "shop co nhan theu ten theo yeu cau ko")
        .await;
    let reply = visitor.bot_reply().await;
    assert!(
        text(&reply).starts_with("Dạ có, Mây nhận thêu tên"),
        "{reply}"
    );
}
