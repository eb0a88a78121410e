//! Templates as the catalog and the deploy form show them.

use serde::{Deserialize, Serialize};

/// A template as the API lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TemplateInfo {
    /// Id (`metadata.name`).
    pub id: String,
    /// Display name.
    pub title: String,
    /// One line about it.
    pub description: String,
    /// Icon URL.
    pub icon: String,
    /// Categories.
    pub categories: Vec<String>,
    /// Where its readme is (a URL, as the Template CR gives it).
    #[serde(default)]
    pub readme: String,
    /// The project's home page.
    #[serde(default)]
    pub url: String,
    /// The deploy form: each input with its type, default, options and condition.
    pub inputs: Vec<InputInfo>,
}

/// One input of the deploy form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InputInfo {
    /// Name.
    pub name: String,
    /// Help text.
    pub description: String,
    /// `string`, `number`, `choice` or `boolean`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Default value (may be an expression).
    pub default: String,
    /// Whether a value is needed.
    pub required: bool,
    /// Choices for `choice`.
    pub options: Vec<String>,
    /// When the field is shown (JavaScript over `inputs`).
    #[serde(rename = "if", default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// A regular expression a non-empty value must match in full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

/// `POST /api/v1/templates`: a template to import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TemplateImport {
    /// The whole template file: a `Template` CR, then its documents.
    pub source: String,
}

/// Something a Sealos-compatible render let through that the template's author should fix: an
/// expression that failed or was `undefined`, and the text put in its place (`''` in the
/// resources, `undefined` in defaults and input defaults, as Sealos renders them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TemplateWarning {
    /// 1-based line of the template file.
    pub line: usize,
    /// The expression as written.
    pub expr: String,
    /// What went wrong: the JavaScript error, or that the value is undefined.
    pub message: String,
    /// What was rendered instead.
    pub rendered_as: String,
}

impl std::fmt::Display for TemplateWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}: expression `{}` {}; rendered as {:?}",
            self.line, self.expr, self.message, self.rendered_as
        )
    }
}

/// `GET /api/v1/templates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateList {
    /// In id order.
    pub templates: Vec<TemplateInfo>,
}
