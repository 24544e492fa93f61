//! Seeding, refreshing and leasing the OA's token pair.

use super::*;

const NOW: u64 = 1_750_000_000_000;

fn configured(refresh_token: &str) -> Configured {
    Configured {
        access_token: "AT-config".into(),
        refresh_token: refresh_token.into(),
        expires_at_ms: None,
    }
}

fn record(version: u64, seed_from: &str, expires_at_ms: Option<u64>) -> TokenRecord {
    TokenRecord {
        version,
        access_token: format!("AT-{version}"),
        refresh_token: format!("RT-{version}"),
        expires_at_ms,
        seed: seed_of(seed_from),
        updated_at_ms: NOW - 1,
    }
}

#[test]
fn nothing_stored_is_seeded_from_the_config() {
    let Step::Seed(seeded) = next_step(None, &configured("RT-pasted"), NOW) else {
        panic!("a seed")
    };
    assert_eq!(seeded.version, 1);
    assert_eq!(seeded.access_token, "AT-config");
    assert_eq!(seeded.refresh_token, "RT-pasted");
    assert_eq!(seeded.seed, seed_of("RT-pasted"));
    // Once stored, it is used as it is.
    assert_eq!(
        next_step(Some(&seeded), &configured("RT-pasted"), NOW),
        Step::Use(seeded)
    );
}

#[test]
fn a_refreshed_pair_is_kept_while_the_config_is_unchanged() {
    let stored = record(7, "RT-pasted", Some(NOW + 60 * 60 * 1000));
    assert_eq!(
        next_step(Some(&stored), &configured(" RT-pasted "), NOW),
        Step::Use(stored)
    );
}

#[test]
fn a_new_refresh_token_in_the_config_starts_over_from_it() {
    let stored = record(7, "RT-pasted", None);
    let Step::Seed(seeded) = next_step(Some(&stored), &configured("RT-new"), NOW) else {
        panic!("a re-seed")
    };
    assert_eq!(seeded.version, 8);
    assert_eq!(seeded.refresh_token, "RT-new");
    assert_eq!(seeded.seed, seed_of("RT-new"));
}

#[test]
fn a_token_within_five_minutes_of_expiry_or_missing_is_refreshed() {
    let soon = record(3, "RT", Some(NOW + REFRESH_MARGIN_MS - 1));
    assert_eq!(
        next_step(Some(&soon), &configured("RT"), NOW),
        Step::Refresh(soon)
    );
    let expired = record(3, "RT", Some(NOW - 1));
    assert!(matches!(
        next_step(Some(&expired), &configured("RT"), NOW),
        Step::Refresh(_)
    ));
    let mut empty = record(3, "RT", None);
    empty.access_token.clear();
    assert!(matches!(
        next_step(Some(&empty), &configured("RT"), NOW),
        Step::Refresh(_)
    ));
    let unknown_expiry = record(3, "RT", None);
    assert!(matches!(
        next_step(Some(&unknown_expiry), &configured("RT"), NOW),
        Step::Use(_)
    ));
}

#[test]
fn a_refresh_keeps_the_seed_and_dates_the_new_expiry() {
    let from = record(4, "RT-pasted", Some(NOW));
    let pair = NewPair {
        access_token: "AT-new".into(),
        refresh_token: "RT-new".into(),
        expires_in_ms: Some(90_000_000),
    };
    let after = refreshed(&from, &pair, NOW);
    assert_eq!(after.version, 5);
    assert_eq!(after.seed, from.seed);
    assert_eq!(after.expires_at_ms, Some(NOW + 90_000_000));
    assert_eq!(
        (after.access_token.as_str(), after.refresh_token.as_str()),
        ("AT-new", "RT-new")
    );
}

#[test]
fn seeds_are_short_stable_and_distinct() {
    assert_eq!(seed_of("RT"), seed_of(" RT "));
    assert_ne!(seed_of("RT"), seed_of("RT2"));
    assert_eq!(seed_of("RT").len(), 16);
    assert!(!seed_of("secret-refresh-token").contains("secret"));
}

#[test]
fn a_lease_is_free_when_absent_or_lapsed() {
    let held = Lease {
        holder: "a".into(),
        until_ms: NOW + 1,
    };
    assert!(lease_is_free(None, NOW));
    assert!(!lease_is_free(Some(&held), NOW));
    assert!(lease_is_free(Some(&held), NOW + 1));
}

#[test]
fn keys_are_per_channel() {
    assert_eq!(record_key("zalo-may"), "token/zalo-may");
    assert_eq!(lease_key("zalo-may"), "token-lease/zalo-may");
}

#[test]
fn expiry_is_read_as_ms_seconds_or_rfc_3339() {
    assert_eq!(parse_expires_at("1748772000000"), Ok(1_748_772_000_000));
    assert_eq!(parse_expires_at("1748772000"), Ok(1_748_772_000_000));
    assert_eq!(
        parse_expires_at("2025-06-01T17:00:00+07:00"),
        Ok(1_748_772_000_000)
    );
    assert_eq!(
        parse_expires_at("2025-06-01T10:00:00Z"),
        Ok(1_748_772_000_000)
    );
    assert_eq!(
        parse_expires_at("2024-02-29T23:59:59.5-01:30"),
        Ok(1_709_256_599_500)
    );
    assert_eq!(parse_expires_at("1970-01-01T00:00:00Z"), Ok(0));
    for bad in [
        "",
        "tomorrow",
        "2025-13-01T00:00:00Z",
        "2025-06-01T10:00:00",
        "2025-06-01T10:00:00+7",
    ] {
        assert!(parse_expires_at(bad).is_err(), "{bad}");
    }
}
