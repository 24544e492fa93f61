//! Tools `get_product` (one product with every variant) and `check_stock` (whether a size
//! and colour of it is in stock).

use loa_sdk::{PluginError, ToolSpec};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::product::{Product, Variant, distinct};
use crate::text::{colour_matches, size_matches};

/// Name of the tool showing one product.
pub const GET_PRODUCT: &str = "get_product";
/// Name of the tool checking stock.
pub const CHECK_STOCK: &str = "check_stock";

/// Spec of `get_product`.
pub fn get_product_spec() -> ToolSpec {
    ToolSpec::new(
        GET_PRODUCT,
        "Shows one product of the shop Thời Trang Mây by its id (from search_products): name, \
         category, price in VND, description (in Vietnamese), tags, page url, and every \
         variant (size, colour, pieces in stock, price in VND). An unknown id is an error.",
        &json!({
            "type": "object",
            "properties": {
                "product_id": {
                    "type": "string",
                    "minLength": 1,
                    "description": "The product's id as search_products returned it, e.g. \"sm-linen-01\"."
                }
            },
            "required": ["product_id"],
            "additionalProperties": false
        }),
    )
}

/// Spec of `check_stock`.
pub fn check_stock_spec() -> ToolSpec {
    ToolSpec::new(
        CHECK_STOCK,
        "Checks whether a product of the shop Thời Trang Mây is in stock in a size and/or \
         colour, e.g. for \"áo sơ mi linen size M còn màu trắng không?\". Returns the \
         matching variants with their stock and price in VND, `available` (true when one of \
         them has stock), and every size and colour the product comes in, to suggest another \
         when the one asked for is sold out or does not exist.",
        &json!({
            "type": "object",
            "properties": {
                "product_id": {
                    "type": "string",
                    "minLength": 1,
                    "description": "The product's id as search_products returned it, e.g. \"sm-linen-01\"."
                },
                "size": {
                    "type": "string",
                    "description": "Size asked for: S, M, L, XL, XXL, a jeans waist size like 28, or \"Free size\". Leave out for any size."
                },
                "colour": {
                    "type": "string",
                    "description": "Colour asked for, in Vietnamese with or without diacritics (\"trắng\" or \"trang\", \"xanh navy\"). Leave out for any colour."
                }
            },
            "required": ["product_id"],
            "additionalProperties": false
        }),
    )
}

/// Arguments of `get_product`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductArgs {
    /// The product's id.
    pub product_id: String,
}

/// Arguments of `check_stock`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockArgs {
    /// The product's id.
    pub product_id: String,
    /// A size; none or blank: any.
    #[serde(default)]
    pub size: Option<String>,
    /// A colour; none or blank: any (`color` accepted too).
    #[serde(default, alias = "color")]
    pub colour: Option<String>,
}

/// A variant as the tools show it: its price always filled in.
#[derive(Debug, Serialize)]
pub struct VariantView {
    /// Its SKU.
    pub sku: String,
    /// Its size, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// Its colour, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub colour: Option<String>,
    /// Pieces in stock.
    pub stock: u32,
    /// Price of one piece in VND.
    pub price: u64,
}

/// Result of `get_product`.
#[derive(Debug, Serialize)]
pub struct ProductDetail {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its category.
    pub category: String,
    /// Its price in VND.
    pub price: u64,
    /// Its description.
    pub description: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Whether any variant is in stock.
    pub in_stock: bool,
    /// Every variant.
    pub variants: Vec<VariantView>,
}

/// Result of `check_stock`.
#[derive(Debug, Serialize)]
pub struct StockAnswer {
    /// The product's id.
    pub product_id: String,
    /// The product's name.
    pub name: String,
    /// The size asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// The colour asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub colour: Option<String>,
    /// Whether a matching variant has stock.
    pub available: bool,
    /// The variants matching the size and colour, sold out ones included.
    pub variants: Vec<VariantView>,
    /// Every size the product comes in.
    pub sizes_offered: Vec<String>,
    /// Every colour the product comes in.
    pub colours_offered: Vec<String>,
}

/// The error for an id the catalog does not have.
pub fn not_found(product_id: &str) -> PluginError {
    PluginError::NotFound(format!(
        "no product with id '{product_id}' in the catalog (search_products gives the ids)"
    ))
}

/// The whole of `product`.
pub fn detail(product: &Product) -> ProductDetail {
    ProductDetail {
        id: product.id.clone(),
        name: product.name.clone(),
        category: product.category.clone(),
        price: product.price,
        description: product.description.clone(),
        tags: product.tags.clone(),
        url: product.url.clone(),
        in_stock: product.in_stock(),
        variants: product.variants.iter().map(|v| view(product, v)).collect(),
    }
}

/// The variants of `product` matching the size and colour of `args`.
pub fn check(product: &Product, args: &StockArgs) -> StockAnswer {
    let size = present(args.size.as_deref());
    let colour = present(args.colour.as_deref());
    let variants: Vec<VariantView> = product
        .variants
        .iter()
        .filter(|variant| {
            size.is_none_or(|asked| {
                variant
                    .size
                    .as_deref()
                    .is_some_and(|s| size_matches(asked, s))
            }) && colour.is_none_or(|asked| {
                variant
                    .colour
                    .as_deref()
                    .is_some_and(|c| colour_matches(asked, c))
            })
        })
        .map(|variant| view(product, variant))
        .collect();
    StockAnswer {
        product_id: product.id.clone(),
        name: product.name.clone(),
        size: size.map(str::to_owned),
        colour: colour.map(str::to_owned),
        available: variants.iter().any(|variant| variant.stock > 0),
        variants,
        sizes_offered: distinct(product.variants.iter().filter_map(|v| v.size.as_deref())),
        colours_offered: distinct(product.variants.iter().filter_map(|v| v.colour.as_deref())),
    }
}

fn view(product: &Product, variant: &Variant) -> VariantView {
    VariantView {
        sku: variant.sku.clone(),
        size: variant.size.clone(),
        colour: variant.colour.clone(),
        stock: variant.stock,
        price: product.price_of(variant),
    }
}

fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::products;

    fn shirt() -> Product {
        products().remove(0)
    }

    fn ask(size: Option<&str>, colour: Option<&str>) -> StockAnswer {
        check(
            &shirt(),
            &StockArgs {
                product_id: "sm-linen-01".into(),
                size: size.map(Into::into),
                colour: colour.map(Into::into),
            },
        )
    }

    #[test]
    fn colour_without_diacritics_finds_the_variant_in_stock() {
        let answer = ask(Some("m"), Some("trang"));
        assert!(answer.available);
        assert_eq!(answer.variants.len(), 1);
        assert_eq!(answer.variants[0].sku, "SML01-TR-M");
        assert_eq!(answer.variants[0].stock, 12);
        assert_eq!(answer.variants[0].price, 450000);
    }

    #[test]
    fn sold_out_variant_is_shown_but_not_available() {
        let answer = ask(Some("L"), Some("Trắng"));
        assert!(!answer.available);
        assert_eq!(answer.variants[0].stock, 0);
    }

    #[test]
    fn a_size_the_product_lacks_lists_what_it_comes_in() {
        let answer = ask(Some("XXL"), None);
        assert!(!answer.available);
        assert!(answer.variants.is_empty());
        assert_eq!(answer.sizes_offered, ["M", "S", "L"]);
        assert_eq!(answer.colours_offered, ["Trắng", "Xanh navy"]);
    }

    #[test]
    fn no_size_nor_colour_means_every_variant() {
        let answer = ask(None, Some(" "));
        assert_eq!(answer.variants.len(), 4);
        assert!(answer.available);
        assert_eq!(answer.colour, None);
    }

    #[test]
    fn detail_fills_in_each_variant_price() {
        let detail = detail(&shirt());
        let prices: Vec<u64> = detail.variants.iter().map(|v| v.price).collect();
        assert_eq!(prices, [450000, 450000, 450000, 470000]);
        assert!(detail.in_stock);
    }

    #[test]
    fn not_found_names_the_id() {
        assert_eq!(
            not_found("x-1").message(),
            "no product with id 'x-1' in the catalog (search_products gives the ids)"
        );
    }
}
