//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the REST API, generated from the
//! handlers' annotations and the shared types' schemas (see `http::documented`).

use std::sync::OnceLock;

use app::error::{ErrorCode, ServiceError};
use axum::Json;
use utoipa::{
    Modify, OpenApi,
    openapi::{
        ContentBuilder, Ref, ResponseBuilder,
        security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
    },
};

/// The document's fixed parts; the paths and schemas are added from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Berth API",
        description = "Deploy Sealos-format templates to Kubernetes, watch their health, change them with previewed change sets, and roll back. Errors are `{error, message, details}`."
    ),
    tags(
        (name = "templates", description = "The templates Berth can deploy"),
        (name = "instances", description = "Deployed templates, their live health and operations"),
        (name = "changes", description = "Change sets: preview, then apply"),
        (name = "history", description = "Revisions, diffs and rollbacks"),
        (name = "meta", description = "Health of Berth itself and this document")
    ),
    components(schemas(ServiceError, ErrorCode)),
    modifiers(&BearerScheme)
)]
pub struct ApiDoc;

/// The errors every API route may answer, each a [`ServiceError`] (statuses as `crate::error`
/// maps the codes).
const ERRORS: [(&str, &str); 8] = [
    (
        "400",
        "the request could not be understood (malformed JSON, path or query)",
    ),
    ("404", "no such template, instance, revision or operation"),
    (
        "409",
        "conflicts with the current state (a stale revision or plan, a running operation, an instance that exists)",
    ),
    ("413", "the body is over 1 MiB"),
    (
        "422",
        "the content is invalid (inputs, edits, a template that does not render, missing CRDs, objects the apiserver refuses)",
    ),
    (
        "500",
        "something failed inside Berth; the cause is in its log",
    ),
    ("502", "the cluster refused Berth a permission it needs"),
    ("503", "the cluster is unreachable"),
];

/// Adds [`ERRORS`] and the bearer requirement to every operation under `/api/v1` (this
/// document aside: it is public).
pub(super) struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        for (path, item) in api.paths.paths.iter_mut() {
            if !path.starts_with("/api/v1/") || path.ends_with("/openapi.json") {
                continue;
            }
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in operations.into_iter().flatten() {
                op.security = Some(vec![SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                )]);
                for (code, description) in ERRORS {
                    let body = ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ServiceError")))
                        .build();
                    let response = ResponseBuilder::new()
                        .description(description)
                        .content("application/json", body)
                        .build();
                    op.responses
                        .responses
                        .insert(code.to_string(), response.into());
                }
            }
        }
    }
}

/// Declares the bearer-token scheme, ready for the routes that will require it.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token, `berth_<id>_<secret>` (`berth token create`). Viewers read; operators also deploy, change and roll back; admins also delete.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The whole document, built once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| super::documented().1)
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "the OpenAPI document", content_type = "application/json", body = Object)))]
pub async fn openapi() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(document())
}
