//! What a turn's tokens cost: the bot's own price when it set one, else the host's table of
//! well-known hosted models, else nothing (a local model on the shop's own machine).

use super::settings::{LlmSettings, Price};
use super::wire::Usage;

/// US dollars per million tokens (input, output) of hosted models, by name prefix, longest
/// first so `gpt-4o-mini` is not priced as `gpt-4o`. Public list prices; a bot whose
/// contract differs sets `llm.price`.
const TABLE: &[(&str, f64, f64)] = &[
    ("gpt-4.1-nano", 0.10, 0.40),
    ("gpt-4.1-mini", 0.40, 1.60),
    ("gpt-4o-mini", 0.15, 0.60),
    ("gpt-4.1", 2.00, 8.00),
    ("gpt-4o", 2.50, 10.00),
    ("gpt-3.5-turbo", 0.50, 1.50),
];

/// The price used for `settings`' model, if any.
pub fn price_of(settings: &LlmSettings) -> Option<Price> {
    settings.price.or_else(|| {
        let model = settings.model.trim().to_ascii_lowercase();
        TABLE
            .iter()
            .find(|(prefix, ..)| model.starts_with(prefix))
            .map(|&(_, input, output)| Price {
                input_per_million: input,
                output_per_million: output,
            })
    })
}

/// What `usage` costs at `price`, in US dollars.
pub fn cost_usd(price: Option<Price>, usage: Usage) -> f64 {
    price.map_or(0.0, |price| {
        (f64::from(usage.prompt_tokens) * price.input_per_million
            + f64::from(usage.completion_tokens) * price.output_per_million)
            / 1_000_000.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(model: &str) -> LlmSettings {
        LlmSettings {
            model: model.into(),
            ..LlmSettings::default()
        }
    }

    #[test]
    fn the_longest_known_prefix_prices_a_model() {
        let usage = Usage {
            prompt_tokens: 1_000_000,
            completion_tokens: 1_000_000,
        };
        assert_eq!(
            cost_usd(price_of(&settings("gpt-4o-mini-2024-07-18")), usage),
            0.75
        );
        assert_eq!(cost_usd(price_of(&settings("gpt-4o")), usage), 12.5);
        assert_eq!(price_of(&settings("qwen2.5:7b-instruct")), None);
    }

    #[test]
    fn the_bots_own_price_wins() {
        let own = LlmSettings {
            price: Some(Price {
                input_per_million: 1.0,
                output_per_million: 2.0,
            }),
            ..settings("gpt-4o")
        };
        let usage = Usage {
            prompt_tokens: 500_000,
            completion_tokens: 250_000,
        };
        assert_eq!(cost_usd(price_of(&own), usage), 1.0);
    }
}
