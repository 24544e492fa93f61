//! Tool `search_products`: products ranked by how many words of the query they contain
//! (diacritics and case ignored), narrowed by price, and by a size and colour in stock.

use loa_sdk::ToolSpec;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::product::{Product, Variant, distinct};
use crate::text::{colour_matches, query_words, size_matches, words};

/// The tool's name.
pub const NAME: &str = "search_products";

/// Results when the model does not say; enough to choose from without flooding the context.
const DEFAULT_LIMIT: u32 = 5;
/// Most results: a chat answer does not list more, and each costs the model tokens.
const MAX_LIMIT: u32 = 10;

/// The tool's spec: description for the model and JSON Schema of the arguments.
pub fn spec() -> ToolSpec {
    ToolSpec::new(
        NAME,
        "Searches the shop's products (Thời Trang Mây, a Vietnamese clothing shop) by words \
         of their name, category, tags and description. Write the query in Vietnamese, with or \
         without diacritics (\"áo sơ mi linen\" or \"ao so mi linen\"). Optionally keep only \
         products at most max_price VND, or having the given size and/or colour in stock. \
         Returns for each product its id (for get_product and check_stock), name, price in \
         VND, category, the colours and sizes in stock now, in_stock, and its page url; \
         `total` is how many products matched before the limit.",
        &json!({
            "type": "object",
            "properties": {
                "query": {
                    "type": "string",
                    "description": "What the customer looks for, in Vietnamese, e.g. \"áo sơ mi linen\", \"váy lụa\", \"quan jean\". Empty: every product passing the filters."
                },
                "max_price": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Highest price in VND, e.g. 500000 for \"dưới 500k\"."
                },
                "size": {
                    "type": "string",
                    "description": "Only products with this size in stock: S, M, L, XL, XXL, jeans waist sizes like 28, or \"Free size\"."
                },
                "colour": {
                    "type": "string",
                    "description": "Only products with this colour in stock, in Vietnamese with or without diacritics, e.g. \"trắng\", \"den\", \"xanh navy\"."
                },
                "limit": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_LIMIT,
                    "default": DEFAULT_LIMIT,
                    "description": "How many products to return."
                }
            },
            "required": ["query"],
            "additionalProperties": false
        }),
    )
}

/// The tool's arguments.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    /// Words to look for.
    pub query: String,
    /// Highest price in VND.
    #[serde(default)]
    pub max_price: Option<u64>,
    /// A size that must be in stock.
    #[serde(default)]
    pub size: Option<String>,
    /// A colour that must be in stock (`color` accepted too: models often write it so).
    #[serde(default, alias = "color")]
    pub colour: Option<String>,
    /// How many products to return, 1 to 10 (out-of-range values are clamped).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// The tool's result.
#[derive(Debug, Serialize)]
pub struct SearchResult {
    /// The best matches, best first.
    pub products: Vec<ProductSummary>,
    /// How many products matched before `limit`.
    pub total: usize,
}

/// One product in a search result.
#[derive(Debug, Serialize)]
pub struct ProductSummary {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its price in VND.
    pub price: u64,
    /// Its category.
    pub category: String,
    /// Colours with at least one piece in stock.
    pub colours: Vec<String>,
    /// Sizes with at least one piece in stock.
    pub sizes: Vec<String>,
    /// Whether anything of it is in stock.
    pub in_stock: bool,
    /// Its page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Runs the search over `products`.
pub fn search(products: &[Product], args: &SearchArgs) -> SearchResult {
    let wanted = query_words(&args.query);
    let size = present(args.size.as_deref());
    let colour = present(args.colour.as_deref());
    let mut hits: Vec<(Score, &Product)> = products
        .iter()
        .filter(|product| args.max_price.is_none_or(|max| product.price <= max))
        .filter(|product| has_variant_in_stock(product, size, colour))
        .filter_map(|product| {
            let score = score(product, &wanted);
            (wanted.is_empty() || score.words > 0).then_some((score, product))
        })
        .collect();
    // Stable: among equals, the shop's own order.
    hits.sort_by(|(a, _), (b, _)| b.cmp(a));
    let total = hits.len();
    let limit = args.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT) as usize;
    SearchResult {
        products: hits
            .into_iter()
            .take(limit)
            .map(|(_, product)| summarize(product))
            .collect(),
        total,
    }
}

/// How well a product matches; compared field by field, greater is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Score {
    /// Query words found in its name, category or tags: what the product is. First, so a
    /// shirt whose description mentions "quần jean" does not outrank the jeans.
    in_labels: usize,
    /// Query words found anywhere, description included.
    words: usize,
    /// Query words found in its name.
    in_name: usize,
    /// In stock before sold out.
    in_stock: bool,
}

fn score(product: &Product, wanted: &[String]) -> Score {
    let name = words(&product.name);
    let mut labels = name.clone();
    labels.extend(words(&product.category));
    for tag in &product.tags {
        labels.extend(words(tag));
    }
    let description = words(&product.description);
    let count = |found: &dyn Fn(&str) -> bool| wanted.iter().filter(|word| found(word)).count();
    Score {
        in_labels: count(&|word| contains(&labels, word)),
        words: count(&|word| contains(&labels, word) || contains(&description, word)),
        in_name: count(&|word| contains(&name, word)),
        in_stock: product.in_stock(),
    }
}

/// Whether `word` is one of `words`, or (3 letters or more) one of them with one more
/// letter at the end: `jean` finds `jeans`, `short` finds `shorts`.
fn contains(words: &[String], word: &str) -> bool {
    words.iter().any(|candidate| {
        candidate == word
            || (word.len() >= 3 && candidate.len() == word.len() + 1 && candidate.starts_with(word))
    })
}

/// Whether some variant has `size` and `colour` (each when given) with stock; true when
/// neither is given.
fn has_variant_in_stock(product: &Product, size: Option<&str>, colour: Option<&str>) -> bool {
    if size.is_none() && colour.is_none() {
        return true;
    }
    product.variants.iter().any(|variant| {
        variant.stock > 0
            && size.is_none_or(|asked| {
                variant
                    .size
                    .as_deref()
                    .is_some_and(|s| size_matches(asked, s))
            })
            && colour.is_none_or(|asked| {
                variant
                    .colour
                    .as_deref()
                    .is_some_and(|c| colour_matches(asked, c))
            })
    })
}

/// A blank filter is no filter (models send `"size": ""` for "any size").
fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|value| !value.is_empty())
}

fn summarize(product: &Product) -> ProductSummary {
    // In the order the product lists them, not the order stock happens to leave them.
    let in_stock = |pick: fn(&Variant) -> Option<&str>| -> Vec<String> {
        distinct(product.variants.iter().filter_map(pick))
            .into_iter()
            .filter(|value| {
                product
                    .variants
                    .iter()
                    .any(|variant| variant.stock > 0 && pick(variant) == Some(value.as_str()))
            })
            .collect()
    };
    ProductSummary {
        id: product.id.clone(),
        name: product.name.clone(),
        price: product.price,
        category: product.category.clone(),
        colours: in_stock(|variant| variant.colour.as_deref()),
        sizes: in_stock(|variant| variant.size.as_deref()),
        in_stock: product.in_stock(),
        url: product.url.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::products;

    fn args(query: &str) -> SearchArgs {
        SearchArgs {
            query: query.into(),
            ..SearchArgs::default()
        }
    }

    fn ids(result: &SearchResult) -> Vec<&str> {
        result.products.iter().map(|p| p.id.as_str()).collect()
    }

    #[test]
    fn query_without_diacritics_finds_the_product_first() {
        let result = search(&products(), &args("ao so mi linen"));
        assert_eq!(ids(&result)[0], "sm-linen-01");
    }

    #[test]
    fn more_matching_words_rank_higher() {
        let result = search(&products(), &args("áo linen"));
        // The linen shirt has both words; the linen trousers only `linen`.
        assert_eq!(ids(&result), ["sm-linen-01", "ao-thun-01", "quan-linen-01"]);
    }

    #[test]
    fn words_in_name_category_or_tags_outrank_words_in_the_description() {
        // The T-shirt's description says "linen"; the trousers are linen by their tags.
        let mut catalog = products();
        catalog[1].description = "Mặc cùng quần linen.".into();
        let result = search(&catalog, &args("quần linen"));
        assert_eq!(
            ids(&result),
            ["quan-linen-01", "sm-linen-01", "quan-jean-01", "ao-thun-01"]
        );
    }

    #[test]
    fn products_matching_no_word_are_left_out() {
        let result = search(&products(), &args("váy lụa"));
        assert_eq!(ids(&result), ["vay-lua-01"]);
        assert_eq!(result.total, 1);
    }

    #[test]
    fn size_and_colour_filters_need_one_variant_in_stock_with_both() {
        let mut query = args("linen");
        query.size = Some("m".into());
        query.colour = Some("trang".into());
        assert_eq!(ids(&search(&products(), &query)), ["sm-linen-01"]);
        // White L is sold out.
        query.size = Some("L".into());
        assert!(search(&products(), &query).products.is_empty());
    }

    #[test]
    fn max_price_keeps_cheaper_products() {
        let mut query = args("");
        query.max_price = Some(300_000);
        assert_eq!(ids(&search(&products(), &query)), ["ao-thun-01"]);
    }

    #[test]
    fn empty_query_lists_everything_up_to_the_limit() {
        let mut query = args("");
        query.limit = Some(2);
        let result = search(&products(), &query);
        assert_eq!(result.products.len(), 2);
        assert_eq!(result.total, products().len());
    }

    #[test]
    fn limit_is_clamped_to_one_to_ten() {
        let mut query = args("");
        query.limit = Some(0);
        assert_eq!(search(&products(), &query).products.len(), 1);
    }

    #[test]
    fn summary_lists_colours_and_sizes_in_stock() {
        let result = search(&products(), &args("sơ mi"));
        let shirt = &result.products[0];
        assert_eq!(shirt.colours, ["Trắng", "Xanh navy"]);
        // White L is sold out: L is left out, and M and S keep the product's order.
        assert_eq!(shirt.sizes, ["M", "S"]);
        assert!(shirt.in_stock);
        assert_eq!(
            serde_json::to_value(shirt).unwrap()["url"],
            "https://thoitrangmay.vn/sp/sm-linen-01"
        );
    }

    #[test]
    fn sizes_keep_the_products_order_whatever_is_sold_out() {
        let mut catalog = products();
        catalog[0].variants = serde_json::from_value(serde_json::json!([
            {"sku": "A", "size": "L", "colour": "Trắng", "stock": 0},
            {"sku": "B", "size": "S", "colour": "Be", "stock": 1},
            {"sku": "C", "size": "L", "colour": "Be", "stock": 1}
        ]))
        .unwrap();
        let shirt = &search(&catalog, &args("sơ mi")).products[0];
        assert_eq!(shirt.sizes, ["L", "S"]);
        assert_eq!(shirt.colours, ["Be"]);
    }

    #[test]
    fn sold_out_products_come_after_products_in_stock() {
        let result = search(&products(), &args("quần"));
        assert_eq!(ids(&result), ["quan-linen-01", "quan-jean-01"]);
        assert!(!result.products[1].in_stock);
    }

    #[test]
    fn a_plural_finds_the_singular_and_back() {
        assert_eq!(ids(&search(&products(), &args("jean")))[0], "quan-jean-01");
    }

    #[test]
    fn unknown_and_blank_arguments() {
        let error = loa_sdk::parse_args::<SearchArgs>(r#"{"query":"a","price":1}"#).unwrap_err();
        assert!(
            error.message().contains("unknown field `price`"),
            "{error:?}"
        );
        let parsed: SearchArgs =
            loa_sdk::parse_args(r#"{"query":"a","color":"đen","size":""}"#).unwrap();
        assert_eq!(parsed.colour.as_deref(), Some("đen"));
        assert_eq!(present(parsed.size.as_deref()), None);
    }
}
