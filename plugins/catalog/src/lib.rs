//! loa tool plugin `catalog`: the shop's products for the bot — `search_products`,
//! `get_product`, `check_stock` — and its shipping rules, `shipping_fee`. Products come from
//! the key-value store (`loa catalog import`) or the shop's product API (`api_base_url`).

mod product;
mod search;
mod shipping;
mod source;
mod stock;
#[cfg(test)]
mod testdata;
mod text;

pub use product::{Product, ProductList, Variant};
pub use source::{META_KEY, PRODUCT_PREFIX};

use loa_sdk::{CallContext, PluginError, Tool, ToolSpec, log, parse_args, to_json};

use source::Source;

/// The plugin; exported below.
pub struct Catalog;

impl Tool for Catalog {
    fn list_tools() -> Vec<ToolSpec> {
        vec![
            search::spec(),
            stock::get_product_spec(),
            stock::check_stock_spec(),
            shipping::spec(),
        ]
    }

    fn call(name: String, args_json: String, _ctx: CallContext) -> Result<String, PluginError> {
        let result = run(&name, &args_json);
        if let Err(error) = &result {
            log::info(
                "tool call failed",
                &[
                    ("tool", &name),
                    ("kind", error.kind()),
                    ("error", error.message()),
                ],
            );
        }
        result
    }
}

fn run(name: &str, args_json: &str) -> Result<String, PluginError> {
    match name {
        search::NAME => {
            let args: search::SearchArgs = parse_args(args_json)?;
            let products = Source::configured().all()?;
            to_json(&search::search(&products, &args))
        }
        stock::GET_PRODUCT => {
            let args: stock::ProductArgs = parse_args(args_json)?;
            let product = find(&args.product_id)?;
            to_json(&stock::detail(&product))
        }
        stock::CHECK_STOCK => {
            let args: stock::StockArgs = parse_args(args_json)?;
            let product = find(&args.product_id)?;
            to_json(&stock::check(&product, &args))
        }
        shipping::NAME => {
            // Needs no catalog: the rules are the shop's.
            let args: shipping::ShippingArgs = parse_args(args_json)?;
            to_json(&shipping::quote(&args)?)
        }
        _ => Err(PluginError::NotFound(format!(
            "no tool named '{name}' (this plugin has {}, {}, {} and {})",
            search::NAME,
            stock::GET_PRODUCT,
            stock::CHECK_STOCK,
            shipping::NAME
        ))),
    }
}

/// The product `id` (trimmed), or [`PluginError::NotFound`] naming it.
fn find(id: &str) -> Result<Product, PluginError> {
    let id = id.trim();
    if id.is_empty() {
        return Err(PluginError::InvalidInput(
            "product_id must not be empty".into(),
        ));
    }
    Source::configured()
        .product(id)?
        .ok_or_else(|| stock::not_found(id))
}

loa_sdk::export_tool!(Catalog);

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo shop's catalog, as `loa catalog import` reads it.
    const DEMO_CATALOG: &str = include_str!("../../../samples/demo-shop/products.json");

    #[test]
    fn every_tool_has_an_object_schema_without_extra_properties() {
        let tools = Catalog::list_tools();
        let names: Vec<&str> = tools.iter().map(|tool| tool.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "search_products",
                "get_product",
                "check_stock",
                "shipping_fee"
            ]
        );
        for tool in tools {
            let schema: serde_json::Value = serde_json::from_str(&tool.input_schema).unwrap();
            assert_eq!(schema["type"], "object", "{}", tool.name);
            assert_eq!(schema["additionalProperties"], false, "{}", tool.name);
            assert!(schema["required"].is_array(), "{}", tool.name);
        }
    }

    #[test]
    fn unknown_tool_is_not_found_and_bad_arguments_are_invalid_input() {
        let error = run("list_orders", "{}").unwrap_err();
        assert_eq!(error.kind(), "not-found");
        assert!(error.message().contains("search_products"), "{error:?}");
        let error = run("shipping_fee", r#"{"province":"HN"}"#).unwrap_err();
        assert_eq!(
            error,
            PluginError::InvalidInput(
                "invalid arguments: missing field `order_total` at line 1 column 17".into()
            )
        );
        assert_eq!(
            run("get_product", r#"{"product_id":" "}"#)
                .unwrap_err()
                .kind(),
            "invalid-input"
        );
    }

    #[test]
    fn shipping_fee_runs_without_a_catalog() {
        let result = run(
            "shipping_fee",
            r#"{"province":"Ha Noi","order_total":300000}"#,
        )
        .unwrap();
        let result: serde_json::Value = serde_json::from_str(&result).unwrap();
        assert_eq!(result["fee"], 20000);
    }

    #[test]
    fn the_demo_catalog_answers_the_linen_shirt_question() {
        let list: ProductList = serde_json::from_str(DEMO_CATALOG).expect("demo catalog parses");
        assert!(list.products.len() >= 35, "{}", list.products.len());
        let found = search::search(
            &list.products,
            &serde_json::from_str(r#"{"query":"ao so mi linen","size":"M","colour":"trang"}"#)
                .unwrap(),
        );
        let shirt = &found.products[0];
        assert!(shirt.name.starts_with("Áo sơ mi linen"), "{found:?}");
        let product = list.products.iter().find(|p| p.id == shirt.id).unwrap();
        let stock = stock::check(
            product,
            &serde_json::from_str(r#"{"product_id":"x","size":"M","colour":"trắng"}"#).unwrap(),
        );
        assert!(stock.available, "{stock:?}");
        assert!(product.price > 0);
    }

    #[test]
    fn the_demo_catalog_has_sold_out_variants_and_unique_ids() {
        let list: ProductList = serde_json::from_str(DEMO_CATALOG).unwrap();
        let mut ids: Vec<&str> = list.products.iter().map(|p| p.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), list.products.len());
        let sold_out = list
            .products
            .iter()
            .flat_map(|p| &p.variants)
            .filter(|v| v.stock == 0);
        assert!(sold_out.count() >= 5);
        assert!(list.products.iter().any(|p| !p.in_stock()));
    }
}
