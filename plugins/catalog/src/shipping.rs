//! Tool `shipping_fee`: the demo shop's shipping rules (its FAQ entries faq-02, faq-03 and
//! faq-04): 20.000đ inside Hà Nội and TP.HCM, 30.000đ elsewhere, free from 500.000đ;
//! express (hỏa tốc) only inside Hà Nội and TP.HCM, from 35.000đ and never free.

use loa_sdk::{PluginError, ToolSpec};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::text::compact;

/// The tool's name.
pub const NAME: &str = "shipping_fee";

/// Standard fee inside Hà Nội and TP.HCM, VND (faq-02).
const INNER_CITY_FEE: u64 = 20_000;
/// Standard fee to every other province, VND (faq-02).
const PROVINCE_FEE: u64 = 30_000;
/// Order total from which standard shipping is free, VND, after vouchers (faq-02).
const FREE_SHIPPING_FROM: u64 = 500_000;
/// Lowest express fee, VND; the real one depends on the distance (faq-04).
const EXPRESS_FEE_FROM: u64 = 35_000;

/// The tool's spec.
pub fn spec() -> ToolSpec {
    ToolSpec::new(
        NAME,
        "Computes the shipping fee (phí ship) and delivery time of an order of the shop Thời \
         Trang Mây to a Vietnamese province, by the shop's rules: 20.000đ inside Hà Nội and \
         TP.HCM, 30.000đ to other provinces, free for orders from 500.000đ; express delivery \
         (giao hỏa tốc, 2–4 hours) only inside Hà Nội and TP.HCM, from 35.000đ and never free. \
         Returns fee in VND, free_shipping, delivery_time and rule (the rule applied, in \
         Vietnamese, to quote to the customer). The shop does not ship abroad.",
        &json!({
            "type": "object",
            "properties": {
                "province": {
                    "type": "string",
                    "minLength": 1,
                    "description": "Province or city of the delivery address, with or without diacritics: \"Hà Nội\", \"ha noi\", \"HN\", \"TP.HCM\", \"Sài Gòn\", \"Đà Nẵng\"..."
                },
                "order_total": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Order total in VND after vouchers, e.g. 450000."
                },
                "express": {
                    "type": "boolean",
                    "default": false,
                    "description": "true when the customer asks for express delivery (giao hỏa tốc, giao nhanh trong ngày)."
                }
            },
            "required": ["province", "order_total"],
            "additionalProperties": false
        }),
    )
}

/// The tool's arguments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShippingArgs {
    /// Province or city of the address.
    pub province: String,
    /// Order total in VND, after vouchers.
    pub order_total: u64,
    /// Express delivery asked for.
    #[serde(default)]
    pub express: bool,
}

/// The tool's result.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct ShippingQuote {
    /// Fee in VND (for express: the lowest, it depends on the distance).
    pub fee: u64,
    /// Whether the order ships free.
    pub free_shipping: bool,
    /// Whether this is the express fee.
    pub express: bool,
    /// When the parcel arrives.
    pub delivery_time: String,
    /// The rule applied, in Vietnamese, to quote to the customer.
    pub rule: String,
}

/// Where an address is, as far as the fee goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    HaNoi,
    HoChiMinh,
    Province,
}

impl Area {
    /// The province as the customer wrote it, with or without diacritics, abbreviations and
    /// "TP."/"Thành phố" (`Ha Noi`, `hanoi`, `HN`, `TP.HCM`, `Sài Gòn`, `sai gon` ...).
    fn of(province: &str) -> Area {
        let mut name = compact(province);
        for prefix in ["noithanh", "thanhpho", "tp"] {
            if let Some(rest) = name.strip_prefix(prefix) {
                name = rest.to_owned();
            }
        }
        let name = name.strip_suffix("city").unwrap_or(&name);
        match name {
            "hanoi" | "hn" => Area::HaNoi,
            "hochiminh" | "hcm" | "hcmc" | "saigon" | "sg" => Area::HoChiMinh,
            _ => Area::Province,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Area::HaNoi => "nội thành Hà Nội",
            Area::HoChiMinh => "nội thành TP.HCM",
            Area::Province => "các tỉnh thành ngoài Hà Nội và TP.HCM",
        }
    }
}

/// The fee, time and rule for `args`.
pub fn quote(args: &ShippingArgs) -> Result<ShippingQuote, PluginError> {
    if args.province.trim().is_empty() {
        return Err(PluginError::InvalidInput(
            "province must name the province or city of the address, e.g. \"Hà Nội\"".into(),
        ));
    }
    let area = Area::of(&args.province);
    if args.express && area != Area::Province {
        return Ok(ShippingQuote {
            fee: EXPRESS_FEE_FROM,
            free_shipping: false,
            express: true,
            delivery_time: "2–4 giờ với đơn đặt trước 15:00".into(),
            rule: format!(
                "Giao hỏa tốc {}: phí theo quãng đường của Grab/Ahamove, thường từ {}, \
                 không áp dụng miễn phí ship.",
                area.label(),
                vnd(EXPRESS_FEE_FROM)
            ),
        });
    }
    let standard_fee = match area {
        Area::Province => PROVINCE_FEE,
        Area::HaNoi | Area::HoChiMinh => INNER_CITY_FEE,
    };
    let free = args.order_total >= FREE_SHIPPING_FROM;
    let mut rule = if free {
        format!(
            "Miễn phí vận chuyển cho mọi đơn từ {} (tính trên số tiền sau khi trừ voucher); \
             đơn này {}.",
            vnd(FREE_SHIPPING_FROM),
            vnd(args.order_total)
        )
    } else {
        format!(
            "Phí ship {} là {}; đơn từ {} (sau khi trừ voucher) được miễn phí vận chuyển.",
            area.label(),
            vnd(standard_fee),
            vnd(FREE_SHIPPING_FROM)
        )
    };
    if args.express {
        rule.push_str(
            " Giao hỏa tốc chỉ có ở nội thành Hà Nội và TP.HCM, nên đơn này đi giao hàng thường.",
        );
    }
    Ok(ShippingQuote {
        fee: if free { 0 } else { standard_fee },
        free_shipping: free,
        express: false,
        delivery_time: delivery_time(area).into(),
        rule,
    })
}

/// Standard delivery times (faq-03).
fn delivery_time(area: Area) -> &'static str {
    match area {
        Area::HaNoi | Area::HoChiMinh => {
            "1–2 ngày (không tính Chủ nhật và ngày lễ); đơn đặt trước 16:00 được gửi đi trong ngày"
        }
        Area::Province => {
            "3–5 ngày, vùng sâu vùng xa và hải đảo 5–7 ngày (không tính Chủ nhật và ngày lễ); \
             đơn đặt trước 16:00 được gửi đi trong ngày"
        }
    }
}

/// `35000` as `35.000đ`, as the shop writes amounts.
fn vnd(amount: u64) -> String {
    let digits = amount.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    format!("{grouped}đ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fee(province: &str, order_total: u64, express: bool) -> ShippingQuote {
        quote(&ShippingArgs {
            province: province.into(),
            order_total,
            express,
        })
        .unwrap()
    }

    #[test]
    fn every_spelling_of_the_two_cities_is_inner_city() {
        for province in [
            "Hà Nội",
            "Ha Noi",
            "hanoi",
            "HN",
            "TP Hà Nội",
            "Thành phố Hà Nội",
            "Hồ Chí Minh",
            "HCM",
            "TP.HCM",
            "tp hcm",
            "Sài Gòn",
            "sai gon",
            "Ho Chi Minh City",
        ] {
            assert_eq!(fee(province, 300_000, false).fee, 20_000, "{province}");
        }
    }

    #[test]
    fn other_provinces_pay_thirty_thousand_and_wait_longer() {
        let quote = fee("Đà Nẵng", 300_000, false);
        assert_eq!(quote.fee, 30_000);
        assert!(!quote.free_shipping);
        assert!(quote.delivery_time.starts_with("3–5 ngày"));
        assert!(quote.rule.contains("30.000đ"), "{}", quote.rule);
    }

    #[test]
    fn orders_from_five_hundred_thousand_ship_free() {
        let quote = fee("Ha Noi", 600_000, false);
        assert_eq!((quote.fee, quote.free_shipping), (0, true));
        assert!(quote.rule.contains("500.000đ") && quote.rule.contains("600.000đ"));
        assert_eq!(fee("Cần Thơ", 500_000, false).fee, 0);
        assert_eq!(fee("Cần Thơ", 499_999, false).fee, 30_000);
    }

    #[test]
    fn express_in_the_cities_costs_from_thirty_five_thousand_and_is_never_free() {
        let quote = fee("sai gon", 2_000_000, true);
        assert_eq!(quote.fee, 35_000);
        assert!(quote.express && !quote.free_shipping);
        assert!(quote.delivery_time.starts_with("2–4 giờ"));
        assert!(quote.rule.contains("không áp dụng miễn phí ship"));
    }

    #[test]
    fn express_elsewhere_falls_back_to_standard_delivery_and_says_why() {
        let quote = fee("Huế", 200_000, true);
        assert_eq!(quote.fee, 30_000);
        assert!(!quote.express);
        assert!(quote.rule.contains("Giao hỏa tốc chỉ có"), "{}", quote.rule);
    }

    #[test]
    fn blank_province_and_negative_total_are_invalid_input() {
        let error = quote(&ShippingArgs {
            province: " ".into(),
            order_total: 1,
            express: false,
        })
        .unwrap_err();
        assert_eq!(error.kind(), "invalid-input");
        let error = loa_sdk::parse_args::<ShippingArgs>(r#"{"province":"HN","order_total":-5}"#)
            .unwrap_err();
        assert!(
            error.message().contains("invalid value: integer `-5`"),
            "{error:?}"
        );
    }

    #[test]
    fn amounts_are_written_the_vietnamese_way() {
        assert_eq!(vnd(35_000), "35.000đ");
        assert_eq!(vnd(1_250_000), "1.250.000đ");
        assert_eq!(vnd(0), "0đ");
    }
}
