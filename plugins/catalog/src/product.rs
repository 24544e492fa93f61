//! The catalog's data: products with their variants (size, colour, stock), as stored under
//! `product/<id>` and as the product API answers. `loa catalog import` (in the host) checks
//! the same shape with its own structs; the plugin's README documents both.

use serde::{Deserialize, Serialize};

/// A `products.json` file, or the product API's answer: `{"products": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductList {
    /// The products, in the shop's order.
    pub products: Vec<Product>,
}

/// One product the shop sells. Unknown fields are ignored, so a shop's API may carry more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// Stable id, e.g. `sm-linen-01`; the key is `product/<id>`.
    pub id: String,
    /// Name as the shop writes it, e.g. `Áo sơ mi linen tay dài`.
    pub name: String,
    /// Category, e.g. `Áo sơ mi`.
    pub category: String,
    /// Price in VND (integer đồng), e.g. 450000.
    pub price: u64,
    /// Free text: material, fit, what it goes with.
    #[serde(default)]
    pub description: String,
    /// Search words (`linen`, `công sở`, `shirt` ...).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The product page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// What can be bought: one entry per size × colour.
    #[serde(default)]
    pub variants: Vec<Variant>,
}

/// One size × colour of a product, with its stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// The shop's stock-keeping unit, e.g. `SM-LINEN-01-TR-M`.
    pub sku: String,
    /// Size (`S` … `XXL`, `28`, `Free size`); none for accessories without sizes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// Colour in Vietnamese (`Trắng`, `Xanh navy`); none when the product has one look.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<String>,
    /// Pieces in stock; 0 = sold out.
    pub stock: u32,
    /// This variant's own price in VND when it differs from the product's; `null`: the
    /// product's price.
    #[serde(default)]
    pub price: Option<u64>,
}

impl Product {
    /// Whether any variant is in stock.
    pub fn in_stock(&self) -> bool {
        self.variants.iter().any(|variant| variant.stock > 0)
    }

    /// What one piece of `variant` costs: its own price, else the product's.
    pub fn price_of(&self, variant: &Variant) -> u64 {
        variant.price.unwrap_or(self.price)
    }
}

/// `values` without repeats, in first-seen order (sizes and colours as the shop lists them).
pub fn distinct<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for value in values {
        if !seen.iter().any(|known| known == value) {
            seen.push(value.to_owned());
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_optional_fields_take_their_defaults() {
        let product: Product = serde_json::from_str(
            r#"{"id":"p1","name":"Túi tote","category":"Phụ kiện","price":150000,
                "variants":[{"sku":"P1","stock":3}],"extra":"ignored"}"#,
        )
        .unwrap();
        assert_eq!(product.description, "");
        assert!(product.tags.is_empty());
        assert_eq!(product.variants[0].size, None);
        assert_eq!(product.price_of(&product.variants[0]), 150000);
        assert!(product.in_stock());
    }

    #[test]
    fn a_variant_price_overrides_the_product_price() {
        let variant = Variant {
            sku: "X".into(),
            size: Some("XXL".into()),
            colour: None,
            stock: 0,
            price: Some(470000),
        };
        let product = Product {
            id: "p".into(),
            name: "n".into(),
            category: "c".into(),
            price: 450000,
            description: String::new(),
            tags: Vec::new(),
            url: None,
            variants: vec![variant.clone()],
        };
        assert_eq!(product.price_of(&variant), 470000);
        assert!(!product.in_stock());
    }

    #[test]
    fn distinct_keeps_first_seen_order() {
        assert_eq!(distinct(["M", "S", "M", "L"]), vec!["M", "S", "L"]);
    }
}
