//! Where the products come from: the shop's product API when `api_base_url` is set, else the
//! plugin's key-value store as `loa catalog import` wrote it (layout in the README).

use std::time::Duration;

use loa_sdk::http::Request;
use loa_sdk::{PluginError, config, kv, log};

use crate::product::{Product, ProductList};

/// Key prefix of the products: `product/<id>` → the product as JSON.
pub const PRODUCT_PREFIX: &str = "product/";
/// Key of the import's summary: `{"count": n, "imported_at_ms": ms}`.
pub const META_KEY: &str = "catalog/meta";
/// Most products read from the key-value store: one page of the host's `kv-list-prefix`
/// (it returns at most 1,000 keys per call, and there is no "after this key" to go on).
pub const MAX_STORED_PRODUCTS: u32 = 1_000;

/// Per-request timeout of the product API: under the manifest's 2,000 ms call limit, so a
/// slow API gives a clear upstream error instead of the host killing the call.
const HTTP_TIMEOUT: Duration = Duration::from_millis(1_500);

/// The catalog of this call's tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `GET {base}/products`, with an optional bearer token.
    Api {
        /// `api_base_url`.
        base: String,
        /// `api_key`, when set.
        api_key: Option<String>,
    },
    /// The key-value store.
    Stored,
}

impl Source {
    /// The source the tenant configured.
    pub fn configured() -> Source {
        match config::require("api_base_url") {
            Ok(base) => Source::Api {
                base,
                api_key: config::require("api_key").ok(),
            },
            Err(_) => Source::Stored,
        }
    }

    /// Every product.
    pub fn all(&self) -> Result<Vec<Product>, PluginError> {
        match self {
            Source::Api { base, api_key } => fetch(base, api_key.as_deref()),
            Source::Stored => stored_products(),
        }
    }

    /// The product `id`; `None` when the catalog has no such product.
    pub fn product(&self, id: &str) -> Result<Option<Product>, PluginError> {
        match self {
            Source::Api { .. } => Ok(self.all()?.into_iter().find(|product| product.id == id)),
            Source::Stored => {
                if let Some(product) = kv::get_json::<Product>(&product_key(id))? {
                    return Ok(Some(product));
                }
                require_stored_catalog()?;
                Ok(None)
            }
        }
    }
}

/// The key of product `id`.
pub fn product_key(id: &str) -> String {
    format!("{PRODUCT_PREFIX}{id}")
}

/// The error when the tenant has no catalog at all.
pub fn no_catalog() -> PluginError {
    PluginError::Config(
        "no product catalog: import one with `loa catalog import products.json --tenant <tenant>` \
         or set the api_base_url config key to the shop's product API"
            .into(),
    )
}

fn stored_products() -> Result<Vec<Product>, PluginError> {
    let keys = kv::list_prefix(PRODUCT_PREFIX, MAX_STORED_PRODUCTS)?;
    if keys.is_empty() {
        require_stored_catalog()?;
    }
    let mut products = Vec::with_capacity(keys.len());
    for key in keys {
        // A key deleted since the listing (a re-import running now) is simply skipped.
        if let Some(product) = kv::get_json::<Product>(&key)? {
            products.push(product);
        }
    }
    Ok(products)
}

/// An import always writes `catalog/meta`; without it there is no catalog.
fn require_stored_catalog() -> Result<(), PluginError> {
    match kv::get(META_KEY)? {
        Some(_) => Ok(()),
        None if !kv::list_prefix(PRODUCT_PREFIX, 1)?.is_empty() => Ok(()),
        None => Err(no_catalog()),
    }
}

fn fetch(base: &str, api_key: Option<&str>) -> Result<Vec<Product>, PluginError> {
    let url = products_url(base);
    let mut request = Request::get(&url)
        .header("accept", "application/json")
        .timeout(HTTP_TIMEOUT);
    if let Some(api_key) = api_key {
        request = request.bearer_auth(api_key);
    }
    let response = request.send().inspect_err(|error| {
        log::warn("product API unreachable", &[("error", &error.to_string())]);
    })?;
    log::info(
        "product API",
        &[("http_status", &response.status.to_string())],
    );
    parse_answer(&url, response.status, &response.body)
}

/// `{base}/products`.
pub fn products_url(base: &str) -> String {
    format!("{}/products", base.trim().trim_end_matches('/'))
}

/// The products in the API's answer; anything but a 2xx `{"products": [...]}` is upstream
/// trouble.
pub fn parse_answer(url: &str, status: u16, body: &[u8]) -> Result<Vec<Product>, PluginError> {
    match status {
        200..=299 => serde_json::from_slice::<ProductList>(body)
            .map(|list| list.products)
            .map_err(|error| {
                PluginError::Upstream(format!(
                    "product API answer from {url} is not {{\"products\": [...]}}: {error}"
                ))
            }),
        401 | 403 => Err(PluginError::Upstream(format!(
            "product API {url} refused the request (HTTP {status}); check the api_key setting"
        ))),
        _ => Err(PluginError::Upstream(format!(
            "product API {url} answered HTTP {status}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_joins_base_and_products() {
        assert_eq!(
            products_url(" https://shop.example.com/api/ "),
            "https://shop.example.com/api/products"
        );
    }

    #[test]
    fn a_good_answer_gives_its_products() {
        let body = r#"{"products":[{"id":"p1","name":"Khăn lụa","category":"Phụ kiện",
            "price":180000,"variants":[{"sku":"K1","colour":"Be","stock":2}]}]}"#;
        let products = parse_answer("u", 200, body.as_bytes()).unwrap();
        assert_eq!(products[0].id, "p1");
    }

    #[test]
    fn a_bad_answer_is_upstream_trouble() {
        let error = parse_answer("https://x/products", 200, b"[]").unwrap_err();
        assert_eq!(error.kind(), "upstream");
        assert!(error.message().contains("https://x/products"), "{error:?}");
        assert!(
            parse_answer("u", 403, b"")
                .unwrap_err()
                .message()
                .contains("api_key")
        );
        assert!(
            parse_answer("u", 500, b"")
                .unwrap_err()
                .message()
                .contains("HTTP 500")
        );
    }

    #[test]
    fn no_catalog_says_how_to_get_one() {
        let error = no_catalog();
        assert_eq!(error.kind(), "config");
        assert!(error.message().contains("loa catalog import"));
        assert!(error.message().contains("api_base_url"));
    }
}
