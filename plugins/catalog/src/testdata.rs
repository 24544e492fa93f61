//! A five-product catalog for the unit tests (the demo shop's full one is checked too, in
//! `lib.rs`).

use crate::product::{Product, ProductList};

/// Linen shirt (white M in stock, white L sold out), T-shirt, linen trousers, silk dress,
/// jeans sold out, in that order.
pub fn products() -> Vec<Product> {
    let list: ProductList = serde_json::from_value(serde_json::json!({"products": [
        {
            "id": "sm-linen-01", "name": "Áo sơ mi linen tay dài", "category": "Áo sơ mi",
            "price": 450000, "description": "Linen mát, form suông, hợp đi làm.",
            "tags": ["linen", "công sở"], "url": "https://thoitrangmay.vn/sp/sm-linen-01",
            "variants": [
                {"sku": "SML01-TR-M", "size": "M", "colour": "Trắng", "stock": 12},
                {"sku": "SML01-TR-S", "size": "S", "colour": "Trắng", "stock": 5},
                {"sku": "SML01-TR-L", "size": "L", "colour": "Trắng", "stock": 0},
                {"sku": "SML01-NV-M", "size": "M", "colour": "Xanh navy", "stock": 3,
                 "price": 470000}
            ]
        },
        {
            "id": "ao-thun-01", "name": "Áo thun cotton cổ tròn", "category": "Áo thun",
            "price": 250000, "description": "Cotton 100%, dày dặn.", "tags": ["basic"],
            "variants": [{"sku": "AT01-DE-L", "size": "L", "colour": "Đen", "stock": 8}]
        },
        {
            "id": "quan-linen-01", "name": "Quần linen ống rộng", "category": "Quần",
            "price": 390000, "tags": ["linen"],
            "variants": [{"sku": "QL01-BE-M", "size": "M", "colour": "Be", "stock": 4}]
        },
        {
            "id": "vay-lua-01", "name": "Váy lụa hai dây", "category": "Váy",
            "price": 650000, "description": "Lụa mềm, dáng suông.",
            "variants": [{"sku": "VL01-DO-S", "size": "S", "colour": "Đỏ đô", "stock": 2}]
        },
        {
            "id": "quan-jean-01", "name": "Quần jeans ống đứng", "category": "Quần",
            "price": 520000, "tags": ["denim"],
            "variants": [{"sku": "QJ01-XA-29", "size": "29", "colour": "Xanh", "stock": 0}]
        }
    ]}))
    .expect("test catalog parses");
    list.products
}
