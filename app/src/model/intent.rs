//! The change box's wire types: a request in plain language, and what Berth made of it: a change
//! (edits with their preview), a question (candidate answers, each with its complete edits) or a
//! refusal (why, with examples that would work on this instance).

use serde::{Deserialize, Serialize};

use super::{Edit, Preview};

/// `POST /api/v1/instances/{namespace}/{name}/intents`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntentRequest {
    /// What the person wants, in their words ("give capture 3 replicas and 1Gi memory").
    pub text: String,
}

/// One candidate answer to a question: what it means, and the complete change it makes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct IntentChoice {
    /// The answer in words ("capture").
    pub label: String,
    /// The edits it makes (empty for a rollback).
    pub edits: Vec<Edit>,
    /// The revision it restores, when the answer is a rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_to: Option<i64>,
}

/// What Berth made of a request. Nothing is applied: a change is applied by confirming its
/// preview through `changes` (or `rollback`) with the preview's plan hash.
///
/// Written as serde derives it; read by `tagged.rs`, without buffering the object first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(
    tag = "outcome",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum IntentAnswer {
    /// A change: the edits (or the revision to restore) and their preview.
    Change {
        /// The typed edits, exactly as `changes` takes them.
        edits: Vec<Edit>,
        /// The change in words, one clause per edit.
        summary: String,
        /// The revision to restore instead of edits, for "roll back".
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rollback_to: Option<i64>,
        /// The preview, exactly as `changes/preview` (or `rollback/preview`) returns it.
        preview: Box<Preview>,
    },
    /// The request is ambiguous: pick one of the answers.
    Question {
        /// What Berth asks.
        question: String,
        /// The candidate answers.
        choices: Vec<IntentChoice>,
    },
    /// The request cannot be turned into a change.
    Refusal {
        /// Why.
        reason: String,
        /// Requests that would work on this instance.
        examples: Vec<String>,
    },
}

/// `GET /api/v1/intents/help`: what the change box understands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct IntentHelp {
    /// The verbs, each with an example.
    pub verbs: Vec<String>,
    /// How targets are named.
    pub targets: Vec<String>,
    /// The units and relative forms understood.
    pub values: Vec<String>,
    /// What a bare amount ("1Gi memory", "2 cores") sets.
    pub default_rule: String,
    /// What is refused.
    pub bounds: Vec<String>,
    /// Where a template declares group words and other names for its components.
    pub aliases: String,
    /// Whether a language model is asked when the built-in parser finds no match.
    pub llm: bool,
}
