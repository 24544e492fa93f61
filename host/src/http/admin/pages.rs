//! Cursor pagination of the admin API's lists: `?limit=` (default 50, at most 200) and
//! `?cursor=` — an opaque token from the previous page's `next_cursor`, which is `null`
//! on the last page. Cursors encode a position (not an offset), so rows written while a
//! client pages do not shift what it sees.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

use crate::http::ApiError;

/// Page size when the client names none.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page: bounds the work of one request.
pub const MAX_LIMIT: u32 = 200;

/// `?limit=&cursor=`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The page size, or 400 `invalid_query` outside 1..=200.
    pub fn limit(&self) -> Result<u32, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
            Some(limit) => Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("limit must be between 1 and {MAX_LIMIT}, not {limit}"),
            )),
        }
    }

    /// The decoded cursor, or 400 `invalid_cursor`.
    pub fn position<T: DeserializeOwned>(&self) -> Result<Option<T>, ApiError> {
        self.cursor.as_deref().map(decode).transpose()
    }
}

/// A position as an opaque cursor.
pub fn encode<T: Serialize>(position: &T) -> String {
    // Serializing a tuple of numbers and strings cannot fail.
    let json = serde_json::to_vec(position).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

fn decode<T: DeserializeOwned>(cursor: &str) -> Result<T, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "invalid_cursor",
                "cursor is not one this API gave out; start again without it",
            )
        })
}

/// The next cursor: the last row's position when the page is full (there may be more).
pub fn next_cursor<R, T: Serialize>(
    rows: &[R],
    limit: u32,
    position: impl Fn(&R) -> T,
) -> Option<String> {
    (rows.len() >= limit as usize)
        .then(|| rows.last())
        .flatten()
        .map(|last| encode(&position(last)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let query = PageQuery {
            limit: None,
            cursor: Some(encode(&(1_700_000_000_000_i64, "cv_1".to_owned()))),
        };
        let position: Option<(i64, String)> = query.position().expect("decodes");
        assert_eq!(position, Some((1_700_000_000_000, "cv_1".to_owned())));
        let garbage = PageQuery {
            limit: None,
            cursor: Some("not a cursor!".into()),
        };
        let error = garbage.position::<i64>().expect_err("refused");
        assert_eq!(error.code, "invalid_cursor");
    }

    #[test]
    fn limits_outside_the_range_are_refused() {
        for (limit, ok) in [
            (None, true),
            (Some(1), true),
            (Some(200), true),
            (Some(0), false),
            (Some(201), false),
        ] {
            let query = PageQuery {
                limit,
                cursor: None,
            };
            assert_eq!(query.limit().is_ok(), ok, "{limit:?}");
        }
    }

    #[test]
    fn only_a_full_page_has_a_next_cursor() {
        let rows = [1_i64, 2, 3];
        assert!(next_cursor(&rows, 3, |row| *row).is_some());
        assert!(next_cursor(&rows, 4, |row| *row).is_none());
    }
}
