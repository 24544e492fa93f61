//! Secrets in admin answers and writes: every secret value is shown as `"********"`
//! ([`MASKED`]), and a client that sends a masked value back means "keep what is stored",
//! so it can read a config, change one key and write it back without knowing the others.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;

use crate::auth::MASKED;
use crate::conversation::model::BotSettings;
use crate::http::ApiError;

/// The map with every value for which `is_secret(key)` holds replaced by [`MASKED`].
pub(super) fn mask(
    values: &BTreeMap<String, String>,
    is_secret: impl Fn(&str) -> bool,
) -> BTreeMap<String, String> {
    values
        .iter()
        .map(|(key, value)| {
            let shown = if is_secret(key) {
                MASKED.to_owned()
            } else {
                value.clone()
            };
            (key.clone(), shown)
        })
        .collect()
}

/// Which keys a write changed: names only, for the audit log (never values).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct KeyChanges {
    /// Keys that are new or got a new value.
    pub set: BTreeSet<String>,
    /// Keys that were stored and are gone.
    pub removed: BTreeSet<String>,
}

impl KeyChanges {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.removed.is_empty()
    }

    fn between(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> Self {
        Self {
            set: new
                .iter()
                .filter(|(key, value)| old.get(*key) != Some(*value))
                .map(|(key, _)| key.clone())
                .collect(),
            removed: old
                .keys()
                .filter(|key| !new.contains_key(*key))
                .cloned()
                .collect(),
        }
    }
}

/// 400 `masked_value_without_stored_value`: the client sent `"********"` for a key that
/// has nothing stored to keep.
fn nothing_to_keep(key: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "masked_value_without_stored_value",
        format!(
            "'{key}' is \"{MASKED}\", which keeps the stored value, but nothing is stored for '{key}': send the real value"
        ),
    )
}

/// A partial update (`PATCH`): a key with a value sets it, [`MASKED`] keeps the stored
/// value, `null` removes the key, and keys not named stay as they are.
pub(super) fn patch(
    stored: &BTreeMap<String, String>,
    changes: &BTreeMap<String, Option<String>>,
) -> Result<(BTreeMap<String, String>, KeyChanges), ApiError> {
    let mut merged = stored.clone();
    for (key, value) in changes {
        match value {
            None => {
                merged.remove(key);
            }
            Some(value) if value == MASKED => {
                if !stored.contains_key(key) {
                    return Err(nothing_to_keep(key));
                }
            }
            Some(value) => {
                merged.insert(key.clone(), value.clone());
            }
        }
    }
    let changes = KeyChanges::between(stored, &merged);
    Ok((merged, changes))
}

/// A whole replacement (`PUT`): the result holds exactly the keys sent; a key sent as
/// [`MASKED`] keeps its stored value.
pub(super) fn replace(
    stored: &BTreeMap<String, String>,
    sent: &BTreeMap<String, String>,
) -> Result<(BTreeMap<String, String>, KeyChanges), ApiError> {
    let mut merged = BTreeMap::new();
    for (key, value) in sent {
        let value = if value == MASKED {
            stored
                .get(key)
                .cloned()
                .ok_or_else(|| nothing_to_keep(key))?
        } else {
            value.clone()
        };
        merged.insert(key.clone(), value);
    }
    let changes = KeyChanges::between(stored, &merged);
    Ok((merged, changes))
}

/// A bot's settings as shown: the LLM key, when one is stored, as [`MASKED`].
pub(super) fn mask_bot_settings(mut settings: BotSettings) -> BotSettings {
    if let Some(llm) = &mut settings.llm
        && llm.api_key.is_some()
    {
        llm.api_key = Some(MASKED.to_owned());
    }
    settings
}

/// `new` settings with a [`MASKED`] LLM key replaced by the key `stored` (none when a new
/// bot is created): 400 when there is nothing to keep.
pub(super) fn keep_bot_secrets(
    new: &mut BotSettings,
    stored: Option<&BotSettings>,
) -> Result<(), ApiError> {
    let Some(llm) = &mut new.llm else {
        return Ok(());
    };
    if llm.api_key.as_deref() != Some(MASKED) {
        return Ok(());
    }
    let kept = stored
        .and_then(|settings| settings.llm.as_ref())
        .and_then(|stored| stored.api_key.clone());
    match kept {
        Some(key) => {
            llm.api_key = Some(key);
            Ok(())
        }
        None => Err(nothing_to_keep("llm.api_key")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    fn names(keys: &[&str]) -> BTreeSet<String> {
        keys.iter().map(|key| (*key).to_owned()).collect()
    }

    #[test]
    fn only_secret_keys_are_masked_and_no_part_of_a_secret_shows() {
        let stored = map(&[("api_key", "sk-live-123"), ("shop", "may")]);
        let shown = mask(&stored, |key| key == "api_key");
        assert_eq!(shown, map(&[("api_key", MASKED), ("shop", "may")]));
        let all = mask(&stored, |_| true);
        assert!(all.values().all(|value| value == MASKED), "{all:?}");
        assert!(!format!("{all:?}").contains("sk-live"));
    }

    #[test]
    fn a_patch_sets_keeps_masked_and_removes_null() {
        let stored = map(&[("token", "t1"), ("secret", "s1"), ("old", "o")]);
        let changes = BTreeMap::from([
            ("token".to_owned(), Some(MASKED.to_owned())),
            ("secret".to_owned(), Some("s2".to_owned())),
            ("old".to_owned(), None),
            ("new".to_owned(), Some("n".to_owned())),
        ]);
        let (merged, changed) = patch(&stored, &changes).expect("valid patch");
        assert_eq!(
            merged,
            map(&[("token", "t1"), ("secret", "s2"), ("new", "n")])
        );
        assert_eq!(changed.set, names(&["new", "secret"]));
        assert_eq!(changed.removed, names(&["old"]));
    }

    #[test]
    fn a_patch_keeps_keys_it_does_not_name_and_an_empty_one_changes_nothing() {
        let stored = map(&[("token", "t1")]);
        let (merged, changed) = patch(&stored, &BTreeMap::new()).expect("valid patch");
        assert_eq!(merged, stored);
        assert!(changed.is_empty());
        let same = BTreeMap::from([("token".to_owned(), Some("t1".to_owned()))]);
        let (_, changed) = patch(&stored, &same).expect("valid patch");
        assert!(
            changed.is_empty(),
            "the same value is no change: {changed:?}"
        );
    }

    #[test]
    fn a_masked_value_with_nothing_stored_is_refused() {
        let changes = BTreeMap::from([("token".to_owned(), Some(MASKED.to_owned()))]);
        let error = patch(&BTreeMap::new(), &changes).expect_err("nothing to keep");
        assert_eq!(error.code, "masked_value_without_stored_value");
        assert!(error.message.contains("'token'"), "{}", error.message);
        let error = replace(&BTreeMap::new(), &map(&[("token", MASKED)])).expect_err("refused");
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn a_replacement_keeps_masked_values_and_drops_keys_not_sent() {
        let stored = map(&[("api_key", "sk-1"), ("shop", "may"), ("region", "hn")]);
        let sent = map(&[("api_key", MASKED), ("shop", "mây")]);
        let (merged, changed) = replace(&stored, &sent).expect("valid");
        assert_eq!(merged, map(&[("api_key", "sk-1"), ("shop", "mây")]));
        assert_eq!(changed.set, names(&["shop"]));
        assert_eq!(changed.removed, names(&["region"]));
    }
}
