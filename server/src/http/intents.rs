//! The change box's API: read a request in plain language (`.../intents`) and what it
//! understands (`/intents/help`). Reading previews; applying is `changes` (or `rollback`) with
//! the preview's plan hash, like any other change.

use app::model::{IntentAnswer, IntentHelp, IntentRequest};
use axum::{Json, extract::State};

use super::extract::{ApiJson, ApiPath};
use crate::{
    auth::{Caller, Role},
    error::ApiResult,
    service,
    state::AppState,
};

/// Reads a request ("give capture 3 replicas and 1Gi memory") into a previewed change, a question
/// with candidate answers (each with its complete edits) or a refusal with examples. Changes
/// nothing.
#[utoipa::path(post, path = "/instances/{namespace}/{name}/intents", tag = "changes",
    params(("namespace" = String, Path), ("name" = String, Path)),
    request_body = IntentRequest,
    responses((status = 200, description = "a change with its preview, a question or a refusal", body = IntentAnswer)))]
pub async fn read_intent(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((ns, name)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<IntentRequest>,
) -> ApiResult<Json<IntentAnswer>> {
    caller.require(Role::Operator)?;
    Ok(Json(s.service.intent(&ns, &name, &req.text).await?))
}

/// What the change box understands: verbs, targets, units, the default rule for a bare amount,
/// the bounds, and where a template declares its group words.
#[utoipa::path(get, path = "/intents/help", tag = "changes",
    responses((status = 200, description = "what the change box understands", body = IntentHelp)))]
pub async fn intent_help(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<IntentHelp>> {
    caller.require(Role::Viewer)?;
    Ok(Json(service::intent::help(s.service.has_llm())))
}
