//! The operator console: one page (`/console`) where shop staff log in and handle the
//! conversations handed over from the bot. Its HTML, script and style are embedded in the
//! binary (no build step, nothing fetched from elsewhere); the page talks to the admin API
//! of the same host with a bearer token.

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;

/// The page itself.
const INDEX_HTML: &str = include_str!("../web/console/index.html");
/// Its script: native ES modules, each served at `/console/<name>`; the page loads
/// `main.js`, which imports the rest.
const MODULES: &[(&str, &str)] = &[
    ("main.js", include_str!("../web/console/main.js")),
    ("constants.js", include_str!("../web/console/constants.js")),
    ("strings.js", include_str!("../web/console/strings.js")),
    ("dom.js", include_str!("../web/console/dom.js")),
    ("state.js", include_str!("../web/console/state.js")),
    ("api.js", include_str!("../web/console/api.js")),
    ("session.js", include_str!("../web/console/session.js")),
    ("live.js", include_str!("../web/console/live.js")),
    ("events.js", include_str!("../web/console/events.js")),
    ("lists.js", include_str!("../web/console/lists.js")),
    (
        "conversation.js",
        include_str!("../web/console/conversation.js"),
    ),
    ("details.js", include_str!("../web/console/details.js")),
    (
        "agent_trace.js",
        include_str!("../web/console/agent_trace.js"),
    ),
    ("reply.js", include_str!("../web/console/reply.js")),
    ("presence.js", include_str!("../web/console/presence.js")),
    ("language.js", include_str!("../web/console/language.js")),
];
/// Its style.
const CONSOLE_CSS: &str = include_str!("../web/console/console.css");

/// The console's own policy, stricter than the one `security_headers` adds to other
/// pages (which leaves scripts open for the shop's own site): the page runs only its own
/// script and style and talks only to this host, so an injected string cannot load or send
/// anything elsewhere. `security_headers` keeps a policy a route already set.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'none'; \
     base-uri 'none'; frame-ancestors 'none'";

/// `no-cache`: a browser may keep a copy but asks every time, so an upgraded host never
/// runs a page with yesterday's script against today's API.
const NO_CACHE: &str = "no-cache";

/// The console's routes.
pub fn routes() -> Router<AppState> {
    let router = Router::new()
        .route("/console", get(page))
        // Both spellings people type; the page names its assets by absolute path, so
        // either works.
        .route("/console/", get(page))
        .route("/console/console.css", get(style));
    // One explicit route per module, so any other name is a 404.
    MODULES.iter().fold(router, |router, &(name, contents)| {
        router.route(
            &format!("/console/{name}"),
            get(move || async move { script(contents) }),
        )
    })
}

async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, NO_CACHE),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        ],
        INDEX_HTML,
    )
        .into_response()
}

/// One module of the script. `text/javascript`: browsers run a module only with a
/// JavaScript type (and `nosniff` is set), and this is the type the HTML standard names.
fn script(contents: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, NO_CACHE),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        ],
        contents,
    )
        .into_response()
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, NO_CACHE),
        ],
        CONSOLE_CSS,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::{INDEX_HTML, MODULES};

    /// The module called `name`.
    fn module(name: &str) -> &'static str {
        MODULES
            .iter()
            .find(|(candidate, _)| *candidate == name)
            .map(|(_, contents)| *contents)
            .unwrap_or_else(|| panic!("no module {name}"))
    }

    /// The keys of one language's table in `strings.js` (`vi: { key: "…", … }`).
    fn table_keys(language: &str) -> BTreeSet<String> {
        let start = format!("  {language}: {{");
        module("strings.js")
            .lines()
            .skip_while(|line| *line != start)
            .skip(1)
            .take_while(|line| !line.starts_with("  }"))
            .filter_map(|line| line.trim().split_once(':'))
            .map(|(key, _)| key.to_owned())
            .collect()
    }

    /// Every text between `opening` (which ends with a quote) and the next quote.
    fn quoted_after<'a>(text: &'a str, opening: &str) -> Vec<&'a str> {
        text.split(opening)
            .skip(1)
            .filter_map(|rest| rest.split_once('"').map(|(value, _)| value))
            .collect()
    }

    #[test]
    fn both_languages_have_the_same_strings() {
        let vietnamese = table_keys("vi");
        let english = table_keys("en");
        assert!(vietnamese.len() > 100, "found {} keys", vietnamese.len());
        assert_eq!(
            vietnamese
                .symmetric_difference(&english)
                .collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "a string missing in one language"
        );
    }

    #[test]
    fn every_text_of_the_page_is_in_the_table() {
        let keys = table_keys("vi");
        for attribute in ["data-i18n", "data-i18n-placeholder", "data-i18n-aria-label"] {
            for key in quoted_after(INDEX_HTML, &format!("{attribute}=\"")) {
                assert!(keys.contains(key), "{attribute}=\"{key}\" has no string");
            }
        }
    }

    #[test]
    fn every_element_the_script_looks_up_is_on_the_page() {
        let on_page: BTreeSet<&str> = quoted_after(INDEX_HTML, "data-testid=\"")
            .into_iter()
            .collect();
        let looked_up: Vec<&str> = MODULES
            .iter()
            .flat_map(|(_, contents)| quoted_after(contents, "byTestId(\""))
            .collect();
        assert!(looked_up.len() > 20, "found {} look-ups", looked_up.len());
        for id in looked_up {
            assert!(
                on_page.contains(id),
                "the script looks up '{id}', not on the page"
            );
        }
    }

    #[test]
    fn every_module_a_module_imports_is_served() {
        for (name, contents) in MODULES {
            for imported in quoted_after(contents, "from \"./") {
                assert!(
                    MODULES.iter().any(|(served, _)| *served == imported),
                    "{name} imports ./{imported}, which is not served"
                );
            }
        }
    }

    #[test]
    fn every_module_says_what_it_is_for() {
        for (name, contents) in MODULES {
            assert!(
                contents.starts_with("// "),
                "{name} starts without a purpose comment"
            );
        }
    }

    #[test]
    fn the_page_loads_only_its_own_assets() {
        for asset in [
            "<script type=\"module\" src=\"/console/main.js\">",
            "/console/console.css",
        ] {
            assert!(INDEX_HTML.contains(asset), "the page names {asset}");
        }
        for outside in [
            "http://", "https://", "//cdn", "<style", "style=\"", "onclick",
        ] {
            assert!(
                !INDEX_HTML.contains(outside),
                "the page holds {outside:?}: the policy would block it or it leaves the host"
            );
        }
    }
}
