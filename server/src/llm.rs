//! The change box's optional language model, asked only when the built-in parser matches
//! nothing. It speaks to an OpenAI-compatible `/v1/chat/completions` endpoint: the request, the
//! instance's components and the JSON schema of `edits` go in, and the answer must be
//! `{"edits": [...]}` (or `{"edits": [], "reason": "..."}` when the model cannot tell). This
//! module only reads the answer into typed edits; whether they may be applied is
//! [`crate::intent::check`]'s call, which the service makes before anything is previewed.
//!
//! Configured by `BERTH_LLM_URL`, `BERTH_LLM_MODEL` and `BERTH_LLM_KEY_FILE`. The key is read from
//! its file once and never logged or returned.

use std::{path::Path, time::Duration};

use app::model::Edit;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Request, Uri, body::Bytes, header};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use serde::Deserialize;
use serde_json::{Value, json};

/// How long an answer may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer read.
const MAX_ANSWER: usize = 1 << 20;

/// Why the model gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration cannot work (a bad URL, an unreadable key file).
    #[error("the language model is not configured correctly: {0}")]
    Config(String),
    /// It could not be reached, timed out or answered with an error status.
    #[error("the language model could not be asked: {0}")]
    Unreachable(String),
    /// It answered something that is not a valid change set.
    #[error("the language model's answer is not a valid change: {0}")]
    BadAnswer(String),
}

/// What the model made of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Edits, still to be checked.
    Edits(Vec<Edit>),
    /// It could not tell, and says why.
    Declined(String),
}

/// A configured model.
pub struct Llm {
    url: Uri,
    model: String,
    key: Option<String>,
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl std::fmt::Debug for Llm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Llm")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("key", &self.key.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

impl Llm {
    /// A model at `url` (the full `.../v1/chat/completions` URL, http or https), called
    /// `model`, with the bearer key in `key_file` if there is one.
    pub fn new(url: &str, model: &str, key_file: Option<&Path>) -> Result<Llm, Error> {
        let url: Uri = url
            .parse()
            .map_err(|e| Error::Config(format!("BERTH_LLM_URL `{url}`: {e}")))?;
        if !matches!(url.scheme_str(), Some("http" | "https")) {
            return Err(Error::Config(
                "BERTH_LLM_URL must be an http or https URL".into(),
            ));
        }
        if model.trim().is_empty() {
            return Err(Error::Config("BERTH_LLM_MODEL is empty".into()));
        }
        let key = match key_file {
            None => None,
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Error::Config(format!("BERTH_LLM_KEY_FILE {}: {e}", path.display()))
                })?;
                Some(text.trim().to_string()).filter(|k| !k.is_empty())
            }
        };
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| Error::Config(format!("TLS roots: {e}")))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Llm {
            url,
            model: model.trim().to_string(),
            key,
            client: Client::builder(TokioExecutor::new()).build(https),
        })
    }

    /// The model's name.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Asks what `text` means for the instance described by `components`.
    pub async fn ask(&self, text: &str, components: &Value) -> Result<Answer, Error> {
        let body = request_body(&self.model, text, components);
        let mut request = Request::post(self.url.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json");
        if let Some(key) = &self.key {
            request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| Error::Config(e.to_string()))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| Error::Unreachable(e.to_string()))?;
            let status = response.status();
            let bytes = Limited::new(response.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|e| Error::Unreachable(format!("reading the answer: {e}")))?
                .to_bytes();
            if !status.is_success() {
                return Err(Error::Unreachable(format!("it answered {status}")));
            }
            Ok(bytes)
        };
        let bytes = tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| Error::Unreachable(format!("no answer within {TIMEOUT:?}")))??;
        read_answer(&bytes)
    }
}

/// The chat request: instructions with the schema and the components, then the person's words.
fn request_body(model: &str, text: &str, components: &Value) -> Value {
    let instructions = format!(
        "You turn a request to change a running application into a JSON change set for Berth, a \
         Kubernetes console. Answer with one JSON object and nothing else: {{\"edits\": [...]}}, \
         each edit valid against the schema below. Use only the components listed, by their id. \
         Never guess: when the request is ambiguous or names nothing you can change, answer \
         {{\"edits\": [], \"reason\": \"<why>\"}}. Never set more than 50 replicas, 64 cores or \
         256Gi of memory, and never shrink storage.\n\nSchema of the answer:\n{}\n\nThe \
         instance:\n{}",
        edits_schema(),
        components
    );
    json!({
        "model": model,
        "temperature": 0,
        "response_format": {"type": "json_object"},
        "messages": [
            {"role": "system", "content": instructions},
            {"role": "user", "content": text},
        ],
    })
}

/// The JSON schema of the answer: `edits`, an array of [`Edit`], with the schemas it refers to.
pub fn edits_schema() -> Value {
    use utoipa::{PartialSchema, ToSchema};
    let mut referenced = Vec::new();
    <Edit as ToSchema>::schemas(&mut referenced);
    let components: serde_json::Map<String, Value> = referenced
        .into_iter()
        .map(|(name, schema)| (name, serde_json::to_value(schema).unwrap_or_default()))
        .collect();
    json!({
        "type": "object",
        "required": ["edits"],
        "properties": {
            "edits": {"type": "array", "items": serde_json::to_value(Edit::schema()).unwrap_or_default()},
            "reason": {"type": "string"},
        },
        "components": {"schemas": components},
    })
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    content: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeSet {
    edits: Vec<Edit>,
    #[serde(default)]
    reason: Option<String>,
}

/// Reads a chat completion into edits (not yet checked) or the model's reason for having none.
pub fn read_answer(body: &[u8]) -> Result<Answer, Error> {
    let completion: Completion = serde_json::from_slice(body)
        .map_err(|e| Error::BadAnswer(format!("not a chat completion: {e}")))?;
    let content = completion
        .choices
        .into_iter()
        .next()
        .and_then(|c| c.message.content)
        .ok_or_else(|| Error::BadAnswer("it has no message".into()))?;
    let json = strip_fence(&content);
    let set: ChangeSet = serde_json::from_str(json)
        .map_err(|e| Error::BadAnswer(format!("not a change set ({e})")))?;
    // Berth fills in when a restart was made; a model does not choose it.
    let edits = set
        .edits
        .into_iter()
        .map(|e| match e {
            Edit::Restart { component, .. } => Edit::Restart {
                component,
                at: None,
            },
            other => other,
        })
        .collect::<Vec<_>>();
    if edits.is_empty() {
        return Ok(Answer::Declined(
            set.reason
                .unwrap_or_else(|| "the model found no change".into()),
        ));
    }
    Ok(Answer::Edits(edits))
}

/// The JSON inside a Markdown code fence, if the model put it in one.
fn strip_fence(content: &str) -> &str {
    let t = content.trim();
    let Some(rest) = t.strip_prefix("```") else {
        return t;
    };
    let rest = rest.strip_prefix("json").unwrap_or(rest);
    rest.strip_suffix("```").unwrap_or(rest).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completion(content: &str) -> Vec<u8> {
        json!({"choices": [{"message": {"role": "assistant", "content": content}}]})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn answers_are_read_into_edits_or_a_reason() {
        let edits = read_answer(&completion(
            "```json\n{\"edits\": [{\"type\": \"restart\", \"component\": \"web\", \"at\": 99}]}\n```",
        ))
        .expect("an answer");
        assert_eq!(
            edits,
            Answer::Edits(vec![Edit::Restart {
                component: "web".into(),
                at: None
            }])
        );
        assert_eq!(
            read_answer(&completion(r#"{"edits": [], "reason": "which one?"}"#)).expect("read"),
            Answer::Declined("which one?".into())
        );
        for bad in [
            completion("sure! I will scale it"),
            completion(r#"{"edits": [{"type": "explode", "component": "web"}]}"#),
            completion(r#"{"edits": [], "extra": 1}"#),
            b"{\"choices\": []}".to_vec(),
            b"<html>".to_vec(),
        ] {
            assert!(
                matches!(read_answer(&bad), Err(Error::BadAnswer(_))),
                "{}",
                String::from_utf8_lossy(&bad)
            );
        }
    }

    #[test]
    fn the_request_carries_the_schema_the_components_and_the_words() {
        let body = request_body("m", "make web faster", &json!({"components": ["web"]}));
        assert_eq!(body["model"], "m");
        assert_eq!(body["messages"][1]["content"], "make web faster");
        let system = body["messages"][0]["content"].as_str().unwrap_or_default();
        assert!(system.contains("\"replicas\""), "{system}");
        assert!(system.contains("EnvValue"), "{system}");
        assert!(system.contains("\"web\""), "{system}");
    }
}
