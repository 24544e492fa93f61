//! The admin API keeps its OpenAPI contract, checked against the real `loa serve`: the
//! document is OpenAPI 3.1 with the error answer on every operation, Swagger UI is served
//! from the binary, and schemathesis (installed by `cargo xtask test` from pinned PyPI
//! wheels) drives every operation as a tenant's owner and finds no 5xx and no answer that
//! differs from the document.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use loa_e2e::accounts::{admin_config, call, create_tenant, login};
use loa_e2e::http::send;
use loa_e2e::loa;
use loa_e2e::serve::Server;
use serde_json::{Value, json};

/// Where `cargo xtask test` says the schemathesis CLI is.
const SCHEMATHESIS_VARIABLE: &str = "LOA_SCHEMATHESIS";

/// Examples per operation and phase: enough to reach every branch the schemas describe
/// (each enum value, each optional field), few enough for a few minutes on 2 cores.
const MAX_EXAMPLES: &str = "20";

/// Fixed, so a failure is reproduced by running the test again.
const SEED: &str = "20260615";

/// What schemathesis checks on every answer (the names its 4.x CLI takes).
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";

/// The `st` executable: `$LOA_SCHEMATHESIS`, else the venv `cargo xtask test` makes.
fn schemathesis() -> PathBuf {
    let path = std::env::var_os(SCHEMATHESIS_VARIABLE)
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|home| PathBuf::from(home).join(".cache/loa/schemathesis/bin/st"))
        })
        .expect("HOME or LOA_SCHEMATHESIS is set");
    assert!(
        path.is_file(),
        "{} is missing: `cargo xtask test` installs schemathesis (or run \
         `cargo xtask schemathesis`), or set {SCHEMATHESIS_VARIABLE} to an `st` executable",
        path.display()
    );
    path
}

/// A data dir with tenant `may` (owner `owner@may.vn`, returned password) and a config
/// without rate limits in the way, and the server on it.
fn shop() -> (tempfile::TempDir, String, Server) {
    let data = tempfile::tempdir().expect("temp dir");
    std::fs::write(data.path().join("loa.toml"), admin_config("")).expect("write loa.toml");
    let password = create_tenant(loa(data.path()), "may", "owner@may.vn");
    let server = Server::start(data.path(), std::iter::empty::<&str>());
    (data, password, server)
}

/// `(METHOD, path, operation)` of every operation in the document.
fn operations(document: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            if ["get", "put", "post", "delete", "patch", "head", "options"]
                .contains(&method.as_str())
            {
                found.push((method.to_uppercase(), path.clone(), operation.clone()));
            }
        }
    }
    found
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_every_operation_documents_its_errors() {
    let (_data, _password, server) = shop();
    let answer = send(
        "GET",
        &format!("{}/v1/openapi.json", server.base_url()),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(
        answer
            .header("content-type")
            .is_some_and(|kind| kind.starts_with("application/json")),
        "{:?}",
        answer.headers
    );
    let document = answer.json;
    let version = document["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1"), "openapi: {version:?}");

    let operations = operations(&document);
    assert!(operations.len() >= 20, "{} operations", operations.len());
    let error_schema = &document["components"]["schemas"]["ErrorBody"];
    assert!(error_schema.is_object(), "ErrorBody is a component");
    for (method, path, operation) in &operations {
        let default = &operation["responses"]["default"];
        assert!(
            default["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .is_some_and(|reference| reference.ends_with("/ErrorBody")),
            "{method} {path} has no `default` error answer: {operation}"
        );
        let public = path.starts_with("/v1/auth/") && *path != "/v1/auth/password";
        let secured = operation["security"]
            .as_array()
            .is_some_and(|requirements| !requirements.is_empty());
        assert_eq!(
            secured, !public,
            "{method} {path}: only logging in, refreshing and logging out go without a token"
        );
    }
    println!(
        "OpenAPI {version}: {} operations, each with its `default` error answer",
        operations.len()
    );
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let (_data, _password, server) = shop();
    let page = send(
        "GET",
        &format!("{}/v1/docs/", server.base_url()),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(
        page.header("content-type")
            .is_some_and(|kind| kind.starts_with("text/html")),
        "{:?}",
        page.headers
    );
    let html = page.text();
    assert!(html.to_lowercase().contains("swagger"), "{html}");
    // Everything the page loads comes from this host: no CDN, so it works offline.
    for attribute in ["src=\"http", "href=\"http", "src='http", "href='http"] {
        assert!(
            !html.contains(attribute),
            "an outside URL in the page:\n{html}"
        );
    }
    let bundle = send(
        "GET",
        &format!("{}/v1/docs/swagger-ui-bundle.js", server.base_url()),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(bundle.status, 200, "the page's script is served");
    assert!(bundle.bytes.len() > 100_000, "{} bytes", bundle.bytes.len());
    // The page points at the document this server serves.
    let initializer = send(
        "GET",
        &format!("{}/v1/docs/swagger-initializer.js", server.base_url()),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(initializer.status, 200);
    assert!(
        initializer.text().contains("/v1/openapi.json"),
        "{}",
        initializer.text()
    );
}

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_document() {
    let st = schemathesis();
    let (data, password, server) = shop();
    let owner = login(server.base_url(), "owner@may.vn", &password).await;
    // Something for the bot, channel and conversation routes to find besides 404s.
    let bot = json!({"id": "may-shop", "name": "Mây"});
    let created = call(
        server.base_url(),
        Some(&owner.access),
        "POST",
        "/v1/tenants/may/bots",
        Some(&bot),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());

    // The tenant in every path is the owner's: random tenant ids would only ever meet 403,
    // and the answers worth checking against the schemas are the successful ones.
    let config = data.path().join("schemathesis.toml");
    std::fs::write(
        &config,
        "[parameters]\n\"path.tenant\" = \"may\"\n\n[generation]\nallow-x00 = false\n",
    )
    .expect("write schemathesis.toml");
    let started = Instant::now();
    let output = Command::new(&st)
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(format!("{}/v1/openapi.json", server.base_url()))
        .args(["--checks", CHECKS])
        .args(["--max-examples", MAX_EXAMPLES, "--seed", SEED])
        .args(["--workers", "1", "--request-timeout", "20", "--no-color"])
        .args(["--generation-database", "none"])
        // The console's live feed is an endless event stream: every call would time out.
        // Its own tests read it (`console_live`).
        .args(["--exclude-operation-id", "console_live"])
        .args([
            "--header",
            &format!("Authorization: Bearer {}", owner.access),
        ])
        .current_dir(data.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|error| panic!("cannot start {}: {error}", st.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!(
        "schemathesis ({:.0?}):\n{stdout}{stderr}",
        started.elapsed()
    );
    assert!(
        output.status.success(),
        "schemathesis found problems (see its summary above); server log:\n{}",
        server.stderr()
    );
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
}
