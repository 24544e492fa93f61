//! A `products.json` file for the `catalog` plugin, checked before anything is written: the
//! JSON itself (with line and column), then each product (by its index and id) and field.
//!
//! The shape is the plugin's (`plugins/catalog/src/product.rs`, documented in its README);
//! the host cannot depend on the plugin crate, so these structs repeat it, stricter: an
//! unknown field is refused here (a typo like `color` would otherwise vanish silently),
//! while the plugin ignores unknown fields of a shop's API.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Most products in one catalog: the plugin lists them with one `kv-list-prefix` call,
/// which the host caps at 1,000 keys.
pub(crate) const MAX_PRODUCTS: usize = 1_000;

/// Longest product id: it goes into the key `product/<id>` and into the bot's tool calls.
const MAX_ID_CHARS: usize = 100;

/// One product, as the plugin stores and reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Product {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) category: String,
    /// VND; signed so a negative price is reported as such, not as a type error.
    pub(crate) price: i64,
    #[serde(default)]
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) url: Option<String>,
    pub(crate) variants: Vec<Variant>,
}

/// One size × colour of a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Variant {
    pub(crate) sku: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) size: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) colour: Option<String>,
    pub(crate) stock: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) price: Option<i64>,
}

/// The products of a valid file, or every problem found in it.
pub(crate) fn parse(text: &str) -> Result<Vec<Product>, Vec<String>> {
    let document: serde_json::Value =
        serde_json::from_str(text).map_err(|error| vec![format!("not valid JSON: {error}")])?;
    let Some(entries) = document.get("products").and_then(|p| p.as_array()) else {
        return Err(vec![
            r#"expected an object {"products": [...]} (see plugins/catalog/README.md)"#.into(),
        ]);
    };
    let mut problems = Vec::new();
    let mut products = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let id = entry.get("id").and_then(|id| id.as_str());
        let at = match id {
            Some(id) => format!("products[{index}] (id '{id}')"),
            None => format!("products[{index}]"),
        };
        match serde_json::from_value::<Product>(entry.clone()) {
            Ok(product) => {
                problems.extend(
                    check_product(&product)
                        .into_iter()
                        .map(|p| format!("{at}: {p}")),
                );
                products.push((at, product));
            }
            Err(error) => problems.push(format!("{at}: {error}")),
        }
    }
    problems.extend(check_catalog(&products));
    if products.is_empty() && problems.is_empty() {
        problems.push("the file holds no product".into());
    }
    if entries.len() > MAX_PRODUCTS {
        problems.push(format!(
            "{} products, more than the {MAX_PRODUCTS} the catalog plugin reads",
            entries.len()
        ));
    }
    if problems.is_empty() {
        Ok(products.into_iter().map(|(_, product)| product).collect())
    } else {
        Err(problems)
    }
}

/// What is wrong with one product on its own.
fn check_product(product: &Product) -> Vec<String> {
    let mut problems = Vec::new();
    let id = product.id.trim();
    if id.is_empty() {
        problems.push("id is empty".into());
    } else if id != product.id
        || id.chars().count() > MAX_ID_CHARS
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        problems.push(format!(
            "id '{}' must be 1 to {MAX_ID_CHARS} letters, digits, '-', '_' or '.'",
            product.id
        ));
    }
    for (field, value) in [("name", &product.name), ("category", &product.category)] {
        if value.trim().is_empty() {
            problems.push(format!("{field} is empty"));
        }
    }
    if product.price < 0 {
        problems.push(format!("price is negative ({})", product.price));
    }
    if let Some(url) = &product.url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        problems.push(format!("url '{url}' is not an http(s) URL"));
    }
    if product.variants.is_empty() {
        problems.push("variants is empty: list at least one (sku, size, colour, stock)".into());
    }
    let mut seen: HashMap<(String, String), &str> = HashMap::new();
    for (index, variant) in product.variants.iter().enumerate() {
        let at = format!("variants[{index}]");
        if variant.sku.trim().is_empty() {
            problems.push(format!("{at}: sku is empty"));
        }
        if variant.stock < 0 {
            problems.push(format!("{at}: stock is negative ({})", variant.stock));
        }
        if let Some(price) = variant.price.filter(|price| *price < 0) {
            problems.push(format!("{at}: price is negative ({price})"));
        }
        let look = |value: &Option<String>| value.as_deref().unwrap_or("").trim().to_lowercase();
        let key = (look(&variant.size), look(&variant.colour));
        if let Some(first) = seen.insert(key, &variant.sku) {
            problems.push(format!("{at}: same size and colour as variant '{first}'"));
        }
    }
    problems
}

/// What is wrong across products: an id or a SKU used twice.
fn check_catalog(products: &[(String, Product)]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut skus: HashMap<&str, &str> = HashMap::new();
    for (index, (at, product)) in products.iter().enumerate() {
        if let Some(first) = ids.insert(&product.id, index) {
            problems.push(format!(
                "{at}: duplicate id '{}' (already used by {})",
                product.id, products[first].0
            ));
        }
        for variant in &product.variants {
            if variant.sku.trim().is_empty() {
                continue;
            }
            if let Some(owner) = skus.insert(&variant.sku, &product.id)
                && owner != product.id
            {
                problems.push(format!(
                    "{at}: sku '{}' is also a variant of product '{owner}'",
                    variant.sku
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: &str) -> serde_json::Value {
        serde_json::json!({
            "id": id, "name": "Áo sơ mi linen", "category": "Áo sơ mi", "price": 450000,
            "variants": [{"sku": format!("{id}-M"), "size": "M", "colour": "Trắng", "stock": 3}]
        })
    }

    fn problems(products: Vec<serde_json::Value>) -> Vec<String> {
        parse(&serde_json::json!({ "products": products }).to_string()).unwrap_err()
    }

    #[test]
    fn the_demo_catalog_is_valid() {
        let text = include_str!("../../../../samples/demo-shop/products.json");
        let products = parse(text).expect("valid");
        assert_eq!(products.len(), 40);
    }

    #[test]
    fn broken_json_gives_line_and_column() {
        let problems = parse("{\n  \"products\": [\n    {oops}\n  ]\n}").unwrap_err();
        assert!(problems[0].contains("line 3 column 6"), "{problems:?}");
    }

    #[test]
    fn missing_field_names_the_index_and_field() {
        let mut entry = product("p1");
        entry.as_object_mut().unwrap().remove("category");
        let problems = problems(vec![product("p0"), entry]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("products[1] (id 'p1'): missing field `category`"));
    }

    #[test]
    fn missing_id_names_the_index() {
        let mut entry = product("p0");
        entry.as_object_mut().unwrap().remove("id");
        assert!(problems(vec![entry])[0].starts_with("products[0]: missing field `id`"));
    }

    #[test]
    fn duplicate_id_names_both_products() {
        let problems = problems(vec![product("p0"), product("p1"), product("p0")]);
        assert!(
            problems.iter().any(|p| p
                == "products[2] (id 'p0'): duplicate id 'p0' (already used by products[0] (id 'p0'))"),
            "{problems:?}"
        );
    }

    #[test]
    fn negative_price_and_stock_and_empty_variants_are_refused() {
        let mut negative = product("p0");
        negative["price"] = serde_json::json!(-5);
        negative["variants"][0]["stock"] = serde_json::json!(-1);
        let mut empty = product("p1");
        empty["variants"] = serde_json::json!([]);
        let problems = problems(vec![negative, empty]);
        assert!(problems.contains(&"products[0] (id 'p0'): price is negative (-5)".to_owned()));
        assert!(
            problems
                .contains(&"products[0] (id 'p0'): variants[0]: stock is negative (-1)".to_owned())
        );
        assert!(
            problems[2].starts_with("products[1] (id 'p1'): variants is empty"),
            "{problems:?}"
        );
    }

    #[test]
    fn unknown_field_is_refused() {
        let mut entry = product("p0");
        entry["variants"][0]["color"] = serde_json::json!("Đen");
        assert!(problems(vec![entry])[0].contains("unknown field `color`"));
    }

    #[test]
    fn id_that_cannot_be_a_key_is_refused() {
        assert!(problems(vec![product("a/b")])[0].contains("must be 1 to 100 letters"));
    }

    #[test]
    fn same_variant_twice_and_shared_sku_are_refused() {
        let mut twice = product("p0");
        twice["variants"] = serde_json::json!([
            {"sku": "A", "size": "M", "colour": "Trắng", "stock": 1},
            {"sku": "B", "size": "m", "colour": "trắng", "stock": 2}
        ]);
        let mut shared = product("p1");
        shared["variants"][0]["sku"] = serde_json::json!("A");
        let problems = problems(vec![twice, shared]);
        assert!(
            problems[0].contains("same size and colour as variant 'A'"),
            "{problems:?}"
        );
        assert!(
            problems[1].contains("sku 'A' is also a variant of product 'p0'"),
            "{problems:?}"
        );
    }

    #[test]
    fn empty_catalog_and_wrong_shape_are_refused() {
        assert_eq!(problems(vec![]), ["the file holds no product"]);
        assert!(parse("[]").unwrap_err()[0].contains(r#"{"products": [...]}"#));
    }

    #[test]
    fn stored_json_has_the_plugins_shape() {
        let products =
            parse(&serde_json::json!({"products": [product("p0")]}).to_string()).unwrap();
        let stored = serde_json::to_value(&products[0]).unwrap();
        assert_eq!(
            stored["variants"][0],
            serde_json::json!(
                {"sku": "p0-M", "size": "M", "colour": "Trắng", "stock": 3}
            )
        );
        assert_eq!(stored["description"], "");
    }
}
