//! A button's payload as Telegram `callback_data`, which holds at most 64 bytes.
//!
//! A payload that fits goes as it is. A longer one goes as `#loa:` and a 64-bit hash of
//! it, and the plugin keeps the payload in its key-value store under `callback/<hash>`;
//! when the button is pressed the payload is read back. Refusing the reply would lose
//! the whole message for one button, and cutting the payload would hand the bot a
//! payload it never sent.

/// Telegram's limit on `callback_data`, in bytes.
pub const MAX_CALLBACK_DATA_BYTES: usize = 64;

/// Marks callback data that stands for a payload kept in the key-value store. A payload
/// that itself starts with it is mapped too, so data with this prefix is never verbatim.
pub const MAPPED_PREFIX: &str = "#loa:";

/// Key-value prefix of the mapped payloads.
const KV_PREFIX: &str = "callback/";

/// A payload ready for `callback_data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// What goes into `callback_data`.
    pub data: String,
    /// The key-value entry (key, payload) to write before sending, for a mapped payload.
    pub mapping: Option<(String, String)>,
}

/// `payload` as callback data, mapped through the key-value store when it does not fit.
pub fn encode(payload: &str) -> Encoded {
    let fits = !payload.is_empty() && payload.len() <= MAX_CALLBACK_DATA_BYTES;
    if fits && !payload.starts_with(MAPPED_PREFIX) {
        return Encoded {
            data: payload.to_owned(),
            mapping: None,
        };
    }
    let hash = format!("{:016x}", fnv1a_64(payload.as_bytes()));
    Encoded {
        data: format!("{MAPPED_PREFIX}{hash}"),
        mapping: Some((format!("{KV_PREFIX}{hash}"), payload.to_owned())),
    }
}

/// The key-value key holding the payload `data` stands for, or `None` when `data` is
/// the payload itself.
pub fn mapped_key(data: &str) -> Option<String> {
    let hash = data.strip_prefix(MAPPED_PREFIX)?;
    let well_formed = hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    // Anything else with the prefix did not come from `encode`: no key to look up.
    well_formed.then(|| format!("{KV_PREFIX}{hash}"))
}

/// FNV-1a, 64 bits: stable across builds and platforms (the std hasher is not), and
/// small. Collisions need about 4 billion distinct long payloads, far beyond a shop's.
pub fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    bytes.iter().fold(OFFSET, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_that_fits_goes_as_it_is() {
        let encoded = encode("size:M");
        assert_eq!(encoded.data, "size:M");
        assert_eq!(encoded.mapping, None);
        let exactly = "x".repeat(64);
        assert_eq!(encode(&exactly).data, exactly);
    }

    #[test]
    fn a_longer_payload_is_mapped_and_found_again() {
        let payload = "đặt hàng áo sơ mi linen trắng size M giao nhanh nội thành Hà Nội";
        assert!(payload.len() > 64);
        let encoded = encode(payload);
        assert!(encoded.data.len() <= MAX_CALLBACK_DATA_BYTES);
        assert!(encoded.data.starts_with(MAPPED_PREFIX));
        let (key, kept) = encoded.mapping.expect("a mapping");
        assert_eq!(kept, payload);
        assert_eq!(mapped_key(&encoded.data), Some(key));
        // Same payload, same data: a button sent twice needs one entry.
        assert_eq!(encode(payload).data, encoded.data);
    }

    #[test]
    fn a_payload_with_the_prefix_or_empty_is_mapped_too() {
        assert!(encode("#loa:0123456789abcdef").mapping.is_some());
        assert!(encode("").mapping.is_some());
    }

    #[test]
    fn plain_or_malformed_data_has_no_key() {
        assert_eq!(mapped_key("size:M"), None);
        assert_eq!(mapped_key("#loa:not-hex"), None);
        assert_eq!(
            mapped_key("#loa:00000000000000ff").as_deref(),
            Some("callback/00000000000000ff")
        );
    }

    #[test]
    fn fnv_matches_its_reference_values() {
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
