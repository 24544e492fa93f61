//! The OA's token pair as the plugin keeps it, and the decisions about it: when to seed it
//! from the channel's config, when to refresh it, who may refresh it.
//!
//! The current pair lives in the key-value store under `token/<channel>` as a versioned
//! record (the config holds only the pair the admin pasted, and the plugin cannot write
//! config). A refresh token works once, so two refreshes must never race: the refresher
//! holds a lease (`token-lease/<channel>`, taken and released with compare-and-swap, and
//! expiring on its own if its holder dies) and stores the new pair with compare-and-swap
//! before anyone uses it. The others wait for the record's version to change.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::oauth::NewPair;
use crate::signature::hex;

/// Refresh this long before the access token expires: a send that starts just before
/// expiry must not reach Zalo just after it.
pub const REFRESH_MARGIN_MS: u64 = 5 * 60 * 1000;

/// How long a refresh lease holds: well past a refresh call's timeout, so a live holder
/// never loses it, and short enough that a holder killed mid-refresh blocks nobody long.
pub const LEASE_MS: u64 = 10_000;

/// The pair in use for one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Goes up by one with every change; waiters watch it.
    pub version: u64,
    /// Sent as the `access_token` header (empty: refresh before the first send).
    pub access_token: String,
    /// Spent on the next refresh.
    pub refresh_token: String,
    /// When the access token expires, ms since the Unix epoch, when known.
    pub expires_at_ms: Option<u64>,
    /// [`seed_of`] the config refresh token this pair descends from: when the admin pastes
    /// a new one, the record starts over from the config.
    pub seed: String,
    /// When the record was written, ms since the Unix epoch.
    pub updated_at_ms: u64,
}

/// The pair in the channel's config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Configured {
    /// `access_token` (may be empty: the first send refreshes).
    pub access_token: String,
    /// `refresh_token`.
    pub refresh_token: String,
    /// `access_token_expires_at`, when set and readable.
    pub expires_at_ms: Option<u64>,
}

/// What to do before sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send with this pair.
    Use(TokenRecord),
    /// Store this record (from the config) first, then decide again.
    Seed(TokenRecord),
    /// This pair's access token is missing or about to expire: refresh it.
    Refresh(TokenRecord),
}

/// The key-value key of a channel's record.
pub fn record_key(channel_id: &str) -> String {
    format!("token/{channel_id}")
}

/// The key-value key of a channel's refresh lease.
pub fn lease_key(channel_id: &str) -> String {
    format!("token-lease/{channel_id}")
}

/// A short fingerprint of a config refresh token: which paste a record descends from,
/// without keeping the paste twice.
pub fn seed_of(refresh_token: &str) -> String {
    let digest = Sha256::digest(refresh_token.trim().as_bytes());
    hex(&digest[..8])
}

/// What to do with `stored` (`None`: nothing, or nothing readable) at `now_ms`.
pub fn next_step(stored: Option<&TokenRecord>, configured: &Configured, now_ms: u64) -> Step {
    let seed = seed_of(&configured.refresh_token);
    let record = match stored {
        Some(record) if record.seed == seed => record.clone(),
        _ => return Step::Seed(seeded(stored, configured, now_ms)),
    };
    let expiring = record
        .expires_at_ms
        .is_some_and(|expires_at| expires_at <= now_ms.saturating_add(REFRESH_MARGIN_MS));
    if record.access_token.is_empty() || expiring {
        Step::Refresh(record)
    } else {
        Step::Use(record)
    }
}

/// A record of the config's pair, one version after `previous`.
pub fn seeded(previous: Option<&TokenRecord>, configured: &Configured, now_ms: u64) -> TokenRecord {
    TokenRecord {
        version: previous.map_or(1, |record| record.version + 1),
        access_token: configured.access_token.trim().to_owned(),
        refresh_token: configured.refresh_token.trim().to_owned(),
        expires_at_ms: configured.expires_at_ms,
        seed: seed_of(&configured.refresh_token),
        updated_at_ms: now_ms,
    }
}

/// The record after `from`'s refresh gave `pair`.
pub fn refreshed(from: &TokenRecord, pair: &NewPair, now_ms: u64) -> TokenRecord {
    TokenRecord {
        version: from.version + 1,
        access_token: pair.access_token.clone(),
        refresh_token: pair.refresh_token.clone(),
        expires_at_ms: pair
            .expires_in_ms
            .map(|lifetime| now_ms.saturating_add(lifetime)),
        seed: from.seed.clone(),
        updated_at_ms: now_ms,
    }
}

/// Who may refresh a channel's pair, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// Unique per attempt, so a holder releases only its own lease.
    pub holder: String,
    /// When the lease lapses, ms since the Unix epoch.
    pub until_ms: u64,
}

/// Whether a lease may be taken over `stored` at `now_ms`: none, unreadable, or lapsed.
pub fn lease_is_free(stored: Option<&Lease>, now_ms: u64) -> bool {
    stored.is_none_or(|lease| lease.until_ms <= now_ms)
}

/// `access_token_expires_at`: ms since the Unix epoch, or an RFC 3339 time
/// (`2025-06-01T17:00:00+07:00`). A number of 11 digits or fewer is taken as seconds:
/// in ms it would be a time in 1973.
pub fn parse_expires_at(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()) {
        let number: u64 = text
            .parse()
            .map_err(|_| format!("'{text}' is too large a number"))?;
        return Ok(if text.len() <= 11 {
            number.saturating_mul(1000)
        } else {
            number
        });
    }
    parse_rfc3339(text)
        .ok_or_else(|| format!("'{text}' is neither ms since the Unix epoch nor an RFC 3339 time"))
}

/// `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)` to ms since the Unix epoch.
fn parse_rfc3339(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|byte| byte.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if bytes.len() < 20
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || !matches!(bytes[10], b'T' | b't' | b' ')
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded = format!("{:0<3}", &fraction[..digits.min(3)]);
        millis = padded.parse::<i64>().ok()?;
        rest = &fraction[digits..];
    }
    let offset_seconds = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let hours: i64 = rest[1..3].parse().ok()?;
            let minutes: i64 = rest[4..6].parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    u64::try_from(seconds * 1000 + millis).ok()
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests;
