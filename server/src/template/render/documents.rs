//! The rendered text's YAML documents, parsed into objects.
//!
//! Parsing is most of a render's time (about 60% of PostHog's), and the documents are
//! independent of each other, so a render with many of them parses them on up to
//! [`MAX_THREADS`] threads at once. The objects keep the file's order, and of several broken
//! documents the first in the file is the one reported, as when they are parsed one by one.

use std::{
    num::NonZero,
    sync::{
        LazyLock,
        atomic::{AtomicUsize, Ordering},
    },
};

use serde_json::Value;

use super::{RenderedObject, TemplateError, typed::Substitutions};

/// Threads that parse one render's documents, at most.
const MAX_THREADS: usize = 4;
/// Fewer documents than this are parsed on the calling thread: a thread costs more to start
/// than a small document takes to parse.
const PARALLEL_FROM: usize = 8;

/// How many threads parse one render's documents: the CPUs this process may use (read once, as
/// finding out reads the cgroup's files), at most [`MAX_THREADS`].
static THREADS: LazyLock<usize> = LazyLock::new(|| {
    std::thread::available_parallelism()
        .map_or(1, NonZero::get)
        .min(MAX_THREADS)
});

/// One document: its lines, each with its line number in the template file.
type Document<'a> = &'a [(usize, String)];

/// Splits the rendered lines into YAML documents and parses each one.
pub(super) fn parse_documents(
    lines: &[(usize, String)],
    body_line: usize,
    typed: &Substitutions,
) -> Result<Vec<RenderedObject>, TemplateError> {
    let mut documents: Vec<Document> = Vec::new();
    let mut start = 0;
    for i in 0..=lines.len() {
        if i == lines.len() || is_document_separator(&lines[i].1) {
            documents.push(&lines[start..i]);
            start = i + 1;
        }
    }
    let threads = *THREADS;
    let parse = |d: Document| parse_document(d, body_line, typed);
    let parsed = if threads < 2 || documents.len() < PARALLEL_FROM {
        documents.into_iter().map(parse).collect()
    } else {
        in_parallel(&documents, threads, parse)
    };
    parsed.into_iter().filter_map(Result::transpose).collect()
}

/// `parse` of every document, in their order, on `threads` threads (this one among them), each
/// taking the next document not yet taken.
fn in_parallel<'a, T: Send>(
    documents: &[Document<'a>],
    threads: usize,
    parse: impl Fn(Document<'a>) -> T + Sync,
) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&d) = documents.get(i) else {
                return done;
            };
            done.push((i, parse(d)));
        }
    };
    let mut all: Vec<(usize, T)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        for helper in helpers {
            match helper.join() {
                Ok(done) => all.extend(done),
                // A panic in a parse is the render's, as it is on one thread.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    });
    all.sort_unstable_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, t)| t).collect()
}

fn is_document_separator(line: &str) -> bool {
    line == "---" || line.starts_with("--- ") || line.starts_with("---\t")
}

fn parse_document(
    lines: Document,
    body_line: usize,
    typed: &Substitutions,
) -> Result<Option<RenderedObject>, TemplateError> {
    let Some(first) = lines
        .iter()
        .find(|(_, t)| !t.trim().is_empty() && !t.trim_start().starts_with('#'))
    else {
        return Ok(None);
    };
    let text = lines
        .iter()
        .map(|(_, t)| t.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let value: Value = serde_saphyr::from_str(&text).map_err(|e| {
        let local = e.location().map(|l| l.line() as usize).unwrap_or(1).max(1);
        let line = lines
            .get(local - 1)
            .map(|(l, _)| *l)
            .unwrap_or(first.0.max(body_line));
        TemplateError::Yaml {
            line,
            message: typed.restore_text(e.to_string().lines().next().unwrap_or_default()),
        }
    })?;
    match value {
        Value::Null => Ok(None),
        Value::Object(ref m) if m.is_empty() => Ok(None),
        mut object @ Value::Object(_) => {
            typed.restore(&mut object);
            stringify_env_values(&mut object);
            Ok(Some(RenderedObject {
                object,
                line: first.0,
            }))
        }
        other => Err(TemplateError::Object {
            line: first.0,
            message: format!(
                "a document must be a mapping (a Kubernetes object), found {}",
                kind_of(&other)
            ),
        }),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Kubernetes wants env values as strings; templates often write `value: 5` or `value: true`.
/// As the Sealos renderer does, numbers and booleans become strings (here in every pod template's
/// containers and init containers, not only Deployments, StatefulSets and Jobs).
fn stringify_env_values(object: &mut Value) {
    let pod_spec = match object.get("kind").and_then(Value::as_str) {
        Some("CronJob") => object.pointer_mut("/spec/jobTemplate/spec/template/spec"),
        Some("Pod") => object.pointer_mut("/spec"),
        _ => object.pointer_mut("/spec/template/spec"),
    };
    let Some(spec) = pod_spec else { return };
    for list in ["containers", "initContainers"] {
        for container in spec
            .get_mut(list)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            for env in container
                .get_mut("env")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(v) = env.get_mut("value") {
                    match v {
                        Value::Number(n) => *v = Value::String(n.to_string()),
                        Value::Bool(b) => *v = Value::String(b.to_string()),
                        Value::Object(_) | Value::Array(_) => *v = Value::String(v.to_string()),
                        _ => {}
                    }
                }
            }
        }
    }
}
