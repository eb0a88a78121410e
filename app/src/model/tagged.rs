//! How the internally tagged enums ([`Edit`], [`EnvValue`], [`IntentAnswer`], [`Progress`],
//! [`HintAction`]) are read. Each is written as serde derives it, one object whose tag field names
//! the variant, and read here as one flat object of every variant's fields, which the tag then
//! sorts out. The JSON is the same either way, and so are the errors (`missing field`, `unknown
//! variant`), but serde's derived reader buffers the whole object before it can look at the tag,
//! and compiles every type inside it twice, once for the text and once for that buffer. Reading
//! them here took 100 KB off the browser bundle's code (`end2end/bench/bundle-breakdown.py`) and
//! 21 KB off its gzip file (500,889 → 479,834 bytes).
//!
//! Two things differ. A field of another variant is refused when its type is wrong; serde's
//! reader ignored it. And only an object is read: serde's also took an array, tag first.

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::{Edit, EnvValue, HintAction, IntentAnswer, IntentChoice, ObjectKey, ObjectResult};
use super::{OperationStatus, Preview, Progress};

/// Reads the fields struct `T` from an object (never from an array, which a derived struct
/// reader would also take), naming what was expected as `what` when it is not an object.
fn from_object<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
    what: &'static str,
) -> Result<T, D::Error> {
    struct Object<T>(&'static str, std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for Object<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str(self.0)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map))
        }
    }
    d.deserialize_map(Object(what, std::marker::PhantomData))
}

/// `Some(value)`, or the error serde gives for a missing field.
fn need<T, E: de::Error>(value: Option<T>, field: &'static str) -> Result<T, E> {
    value.ok_or_else(|| E::missing_field(field))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum EditKind {
    Replicas,
    Resources,
    Env,
    Storage,
    Image,
    Domain,
    Restart,
    Pause,
    Resume,
    Input,
    Manifest,
}

/// Every field of every [`Edit`].
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EditFields {
    #[serde(rename = "type")]
    kind: EditKind,
    component: Option<String>,
    container: Option<String>,
    replicas: Option<u32>,
    cpu_request: Option<String>,
    cpu_limit: Option<String>,
    memory_request: Option<String>,
    memory_limit: Option<String>,
    name: Option<String>,
    value: Option<EditValue>,
    #[serde(default)]
    secret: bool,
    volume: Option<String>,
    size: Option<String>,
    image: Option<String>,
    host: Option<String>,
    at: Option<i64>,
    object: Option<ObjectKey>,
    /// `null` is a merge patch too (RFC 7386: it replaces the whole object), so a present `null`
    /// is kept apart from an absent field.
    #[serde(default, deserialize_with = "present")]
    merge_patch: Option<serde_json::Value>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// `value` is a text for an `input` edit and an object for an `env` edit.
enum EditValue {
    Text(String),
    Env(EnvValue),
}

impl<'de> Deserialize<'de> for EditValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> Visitor<'de> for Either {
            type Value = EditValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a text (an input's value) or an object (a variable's new value)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<EditValue, E> {
                Ok(EditValue::Text(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<EditValue, A::Error> {
                EnvValue::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(EditValue::Env)
            }
        }
        d.deserialize_any(Either)
    }
}

impl EditValue {
    fn text<E: de::Error>(self) -> Result<String, E> {
        match self {
            EditValue::Text(t) => Ok(t),
            EditValue::Env(_) => Err(E::invalid_type(de::Unexpected::Map, &"a text")),
        }
    }

    fn env<E: de::Error>(self) -> Result<EnvValue, E> {
        match self {
            EditValue::Env(v) => Ok(v),
            EditValue::Text(t) => Err(E::invalid_type(de::Unexpected::Str(&t), &"an object")),
        }
    }
}

impl<'de> Deserialize<'de> for Edit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f: EditFields = from_object(d, "an edit (an object with a `type`)")?;
        Ok(match f.kind {
            EditKind::Replicas => Edit::Replicas {
                component: need(f.component, "component")?,
                replicas: need(f.replicas, "replicas")?,
            },
            EditKind::Resources => Edit::Resources {
                component: need(f.component, "component")?,
                container: f.container,
                cpu_request: f.cpu_request,
                cpu_limit: f.cpu_limit,
                memory_request: f.memory_request,
                memory_limit: f.memory_limit,
            },
            EditKind::Env => Edit::Env {
                component: need(f.component, "component")?,
                container: f.container,
                name: need(f.name, "name")?,
                value: need(f.value, "value")?.env()?,
                secret: f.secret,
            },
            EditKind::Storage => Edit::Storage {
                component: need(f.component, "component")?,
                volume: f.volume,
                size: need(f.size, "size")?,
            },
            EditKind::Image => Edit::Image {
                component: need(f.component, "component")?,
                container: f.container,
                image: need(f.image, "image")?,
            },
            EditKind::Domain => Edit::Domain {
                host: need(f.host, "host")?,
            },
            EditKind::Restart => Edit::Restart {
                component: need(f.component, "component")?,
                at: f.at,
            },
            EditKind::Pause => Edit::Pause {
                component: need(f.component, "component")?,
            },
            EditKind::Resume => Edit::Resume {
                component: need(f.component, "component")?,
            },
            EditKind::Input => Edit::Input {
                name: need(f.name, "name")?,
                value: need(f.value, "value")?.text()?,
            },
            EditKind::Manifest => Edit::Manifest {
                object: need(f.object, "object")?,
                merge_patch: need(f.merge_patch, "mergePatch")?,
            },
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum EnvKind {
    Value,
    SecretRef,
    Unset,
}

#[derive(Deserialize)]
struct EnvValueFields {
    kind: EnvKind,
    value: Option<String>,
    secret: Option<String>,
    key: Option<String>,
}

impl<'de> Deserialize<'de> for EnvValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f: EnvValueFields = from_object(d, "a variable's new value (an object with a `kind`)")?;
        Ok(match f.kind {
            EnvKind::Value => EnvValue::Value {
                value: need(f.value, "value")?,
            },
            EnvKind::SecretRef => EnvValue::SecretRef {
                secret: need(f.secret, "secret")?,
                key: need(f.key, "key")?,
            },
            EnvKind::Unset => EnvValue::Unset,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum Outcome {
    Change,
    Question,
    Refusal,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntentAnswerFields {
    outcome: Outcome,
    edits: Option<Vec<Edit>>,
    summary: Option<String>,
    rollback_to: Option<i64>,
    preview: Option<Box<Preview>>,
    question: Option<String>,
    choices: Option<Vec<IntentChoice>>,
    reason: Option<String>,
    examples: Option<Vec<String>>,
}

impl<'de> Deserialize<'de> for IntentAnswer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f: IntentAnswerFields = from_object(d, "an answer (an object with an `outcome`)")?;
        Ok(match f.outcome {
            Outcome::Change => IntentAnswer::Change {
                edits: need(f.edits, "edits")?,
                summary: need(f.summary, "summary")?,
                rollback_to: f.rollback_to,
                preview: need(f.preview, "preview")?,
            },
            Outcome::Question => IntentAnswer::Question {
                question: need(f.question, "question")?,
                choices: need(f.choices, "choices")?,
            },
            Outcome::Refusal => IntentAnswer::Refusal {
                reason: need(f.reason, "reason")?,
                examples: need(f.examples, "examples")?,
            },
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum ProgressKind {
    Object,
    Finished,
}

#[derive(Deserialize)]
struct ProgressFields {
    #[serde(rename = "type")]
    kind: ProgressKind,
    instance: Option<String>,
    revision: Option<i64>,
    result: Option<ObjectResult>,
    status: Option<OperationStatus>,
    message: Option<String>,
}

impl<'de> Deserialize<'de> for Progress {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f: ProgressFields = from_object(d, "progress (an object with a `type`)")?;
        let instance = need(f.instance, "instance")?;
        let revision = need(f.revision, "revision")?;
        Ok(match f.kind {
            ProgressKind::Object => Progress::Object {
                instance,
                revision,
                result: need(f.result, "result")?,
            },
            ProgressKind::Finished => Progress::Finished {
                instance,
                revision,
                status: need(f.status, "status")?,
                message: need(f.message, "message")?,
            },
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum HintKind {
    Restart,
    Logs,
}

#[derive(Deserialize)]
struct HintActionFields {
    kind: HintKind,
    component: Option<String>,
    components: Option<Vec<String>>,
}

impl<'de> Deserialize<'de> for HintAction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f: HintActionFields = from_object(d, "a hint's action (an object with a `kind`)")?;
        Ok(match f.kind {
            HintKind::Restart => HintAction::Restart {
                component: need(f.component, "component")?,
            },
            HintKind::Logs => HintAction::Logs {
                components: need(f.components, "components")?,
            },
        })
    }
}

#[cfg(test)]
#[path = "tagged_tests.rs"]
mod tests;
