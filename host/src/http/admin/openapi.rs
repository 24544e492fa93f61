//! The OpenAPI 3.1 document of the admin API, generated from the handlers' annotations
//! (utoipa), served at `/v1/openapi.json`, with Swagger UI at `/v1/docs` (its files are
//! compiled into the binary: nothing is fetched from the internet).
//!
//! Every operation shares two things added here rather than on each handler: the bearer
//! security scheme (except the routes that log in), and the error answer
//! `{"error": {"code", "message"}}` as the `default` response, so every error status any
//! route can give (400, 401, 403, 404, 409, 413, 415, 422, 429, 503) is documented.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, ToSchema};

/// The name of the bearer security scheme.
pub const BEARER: &str = "bearer";

/// Tag of the routes that log in and out (they need no token).
pub const PUBLIC_TAG: &str = "auth";

/// The document's root.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "loa admin API",
        description = "Tenants, members, API keys, bots, channels, plugins, FAQ and documents, \
                       conversations and the audit log of a loa host. Authenticate with \
                       `Authorization: Bearer <token>`: a person's access token from \
                       `POST /v1/auth/login`, or a tenant's API key (`loa_ak_…`)."
    ),
    modifiers(&SharedParts),
    components(schemas(ErrorBody, ErrorDetail))
)]
pub struct ApiDoc;

/// Every error answer.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    /// What went wrong.
    error: ErrorDetail,
}

/// The error itself.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ErrorDetail {
    /// Stable, machine-readable (`forbidden`, `invalid_json`, `rate_limited`).
    code: String,
    /// What is wrong, for a person.
    message: String,
}

/// Adds the security scheme and the shared error response to every operation.
struct SharedParts;

impl Modify for SharedParts {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A person's access token (JWT, 15 minutes) or a tenant's API key",
                    ))
                    .build(),
            ),
        );
    }
}

/// Applies the shared parts to every operation of a finished document (after the routers'
/// paths are merged in, which the derive's modifiers run before).
pub fn finish(openapi: &mut OpenApi) {
    let error = RefOr::T(
        ResponseBuilder::new()
            .description("An error: the status says which kind, the body says what is wrong.")
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build(),
    );
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            operation
                .responses
                .responses
                .entry("default".to_owned())
                .or_insert_with(|| error.clone());
            let public = operation
                .tags
                .as_ref()
                .is_some_and(|tags| tags.iter().any(|tag| tag == PUBLIC_TAG));
            if operation.security.is_none() && !public {
                operation.security =
                    Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
            }
        }
    }
}
