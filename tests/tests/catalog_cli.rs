//! The product catalog end to end with the real `loa` binary and the real `catalog`
//! plugin: `loa catalog import` into a tenant, the plugin's tools answering from that
//! tenant's key-value store (`loa plugin run --tenant`), a re-import removing a product,
//! and bad files or tenants changing nothing.

use std::path::{Path, PathBuf};

use loa_e2e::{finish, loa, workspace_root};
use serde_json::{Value, json};

const TENANT: &str = "may";

fn catalog_plugin() -> PathBuf {
    let dir = workspace_root().join("plugins/catalog");
    assert!(
        dir.join("plugin.wasm").is_file(),
        "{} has no plugin.wasm: run `cargo xtask build-plugins` first",
        dir.display()
    );
    dir
}

fn demo_catalog() -> PathBuf {
    workspace_root().join("samples/demo-shop/products.json")
}

/// A data dir with the tenant and nothing else.
fn shop() -> tempfile::TempDir {
    let data = tempfile::tempdir().expect("temp dir");
    finish(loa(data.path()).args([
        "tenant",
        "create",
        TENANT,
        "--owner",
        "owner@may.vn",
        "--name",
        "Thời Trang Mây",
    ]))
    .success();
    data
}

fn import(data: &Path, file: &Path) -> loa_e2e::Finished {
    finish(
        loa(data)
            .args(["catalog", "import", "--tenant", TENANT])
            .arg(file),
    )
}

/// Calls `tool` of the real plugin as the tenant; the JSON report (`ok` or `error`).
fn call(data: &Path, tool: &str, args: Value) -> Value {
    let output = finish(
        loa(data)
            .args(["plugin", "run"])
            .arg(catalog_plugin())
            .args(["--tenant", TENANT, "--json", "--call", tool, "--args"])
            .arg(args.to_string()),
    );
    serde_json::from_str(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "not a JSON report ({error}):\n{}\n{}",
            output.stdout, output.stderr
        )
    })
}

fn ok(report: Value) -> Value {
    assert!(report["error"].is_null(), "{report:#}");
    report["ok"].clone()
}

#[test]
fn the_plugin_answers_from_the_imported_catalog() {
    let data = shop();
    let imported = import(data.path(), &demo_catalog()).success();
    assert!(
        imported.contains("imported 40 products (0 removed)"),
        "{imported}"
    );

    let found = ok(call(
        data.path(),
        "search_products",
        json!({"query": "ao so mi linen"}),
    ));
    let first = &found["products"][0];
    assert_eq!(first["id"], "sm-linen-01", "{found:#}");
    assert_eq!(first["name"], "Áo sơ mi linen tay dài");
    assert_eq!(first["price"], 450000);
    assert!(found["total"].as_u64().unwrap() >= 2, "{found:#}");

    let stock = ok(call(
        data.path(),
        "check_stock",
        json!({"product_id": "sm-linen-01", "size": "M", "colour": "trang"}),
    ));
    assert_eq!(stock["available"], true, "{stock:#}");
    assert_eq!(stock["variants"][0]["colour"], "Trắng");
    assert_eq!(stock["variants"][0]["price"], 450000);

    let product = ok(call(
        data.path(),
        "get_product",
        json!({"product_id": "sm-linen-01"}),
    ));
    assert_eq!(product["variants"].as_array().unwrap().len(), 12);

    let fee = ok(call(
        data.path(),
        "shipping_fee",
        json!({"province": "Ha Noi", "order_total": 300000}),
    ));
    assert_eq!(
        (&fee["fee"], &fee["free_shipping"]),
        (&json!(20000), &json!(false))
    );
    let free = ok(call(
        data.path(),
        "shipping_fee",
        json!({"province": "Ha Noi", "order_total": 600000}),
    ));
    assert_eq!(
        (&free["fee"], &free["free_shipping"]),
        (&json!(0), &json!(true))
    );
}

#[test]
fn a_reimport_replaces_the_catalog_and_a_bad_file_changes_nothing() {
    let data = shop();
    import(data.path(), &demo_catalog()).success();

    let mut catalog: Value =
        serde_json::from_str(&std::fs::read_to_string(demo_catalog()).unwrap()).unwrap();
    let products = catalog["products"].as_array_mut().unwrap();
    products.retain(|product| product["id"] != "quan-jean-03");
    let smaller = data.path().join("smaller.json");
    std::fs::write(&smaller, catalog.to_string()).unwrap();
    let reimported = import(data.path(), &smaller).success();
    assert!(
        reimported.contains("imported 39 products (1 removed)"),
        "{reimported}"
    );
    let gone = call(
        data.path(),
        "get_product",
        json!({"product_id": "quan-jean-03"}),
    );
    assert_eq!(gone["error"]["detail"]["code"], "not_found", "{gone:#}");
    assert!(
        gone["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'quan-jean-03'"),
        "{gone:#}"
    );

    // The first product again at the end: a duplicate id, reported with both places.
    let products = catalog["products"].as_array_mut().unwrap();
    let mut changed = products[0].clone();
    changed["price"] = json!(1);
    products.push(changed);
    let duplicate = data.path().join("duplicate.json");
    std::fs::write(&duplicate, catalog.to_string()).unwrap();
    let refused = import(data.path(), &duplicate).failure();
    assert!(
        refused.contains(
            "products[39] (id 'sm-linen-01'): duplicate id 'sm-linen-01' (already used by products[0] (id 'sm-linen-01'))"
        ),
        "{refused}"
    );
    assert!(refused.contains("nothing imported"), "{refused}");

    let broken = data.path().join("broken.json");
    std::fs::write(&broken, "{\"products\": [\n  {\"id\": \"x\",}\n]}").unwrap();
    let refused = import(data.path(), &broken).failure();
    assert!(refused.contains("line 2 column"), "{refused}");

    let everything = ok(call(
        data.path(),
        "search_products",
        json!({"query": "", "limit": 10}),
    ));
    assert_eq!(everything["total"], 39, "{everything:#}");
    let shirt = ok(call(
        data.path(),
        "get_product",
        json!({"product_id": "sm-linen-01"}),
    ));
    assert_eq!(shirt["price"], 450000, "the refused file changed nothing");
}

#[test]
fn an_unknown_tenant_or_a_missing_catalog_is_said_plainly() {
    let data = shop();
    let refused = finish(
        loa(data.path())
            .args(["catalog", "import", "--tenant", "nobody"])
            .arg(demo_catalog()),
    )
    .failure();
    assert!(refused.contains("no tenant 'nobody'"), "{refused}");

    let refused = finish(
        loa(data.path())
            .args(["plugin", "run"])
            .arg(catalog_plugin())
            .args(["--tenant", "nobody", "--call", "search_products", "--args"])
            .arg(r#"{"query":"ao"}"#),
    )
    .failure();
    assert!(refused.contains("no tenant 'nobody'"), "{refused}");

    let empty = call(data.path(), "search_products", json!({"query": "ao"}));
    assert_eq!(empty["error"]["detail"]["code"], "config", "{empty:#}");
    assert!(
        empty["error"]["message"]
            .as_str()
            .unwrap()
            .contains("loa catalog import"),
        "{empty:#}"
    );
}
