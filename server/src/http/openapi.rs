//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the REST API, generated from the
//! handlers' annotations and the shared types' schemas (see `http::documented`).

use std::sync::OnceLock;

use axum::Json;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
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
    modifiers(&BearerScheme)
)]
pub struct ApiDoc;

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
                    .description(Some("An API token (not required yet)"))
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
