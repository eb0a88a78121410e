//! Checks a change set made elsewhere (by a language model) against the same rules the parser
//! keeps: only the kinds of edit the change box makes, on components the instance has, within the
//! bounds, with well-formed values, and no storage shrink. The parser's own edits pass it too;
//! the fuzz target asserts that.

use app::model::{Edit, EnvValue, quantity::parse_quantity};

use super::{MAX_CORES, MAX_MEMORY_GI, MAX_REPLICAS, Model, Part};

/// Why an edit is not one the change box may make, or `Ok` when every edit is.
pub fn check(edits: &[Edit], model: &Model) -> Result<(), String> {
    if edits.is_empty() {
        return Err("no edits".into());
    }
    edits.iter().try_for_each(|e| one(e, model))
}

fn one(edit: &Edit, model: &Model) -> Result<(), String> {
    let part = |id: &str| {
        model
            .part(id)
            .ok_or_else(|| format!("{id} is not a component of {}", model.instance))
    };
    match edit {
        Edit::Replicas {
            component,
            replicas,
        } => {
            part(component)?;
            if f64::from(*replicas) > MAX_REPLICAS {
                return Err(format!(
                    "{component}: {replicas} replicas is more than {MAX_REPLICAS}"
                ));
            }
            Ok(())
        }
        Edit::Resources {
            component,
            container,
            cpu_request,
            cpu_limit,
            memory_request,
            memory_limit,
        } => {
            has_container(part(component)?, container.as_deref())?;
            if [cpu_request, cpu_limit, memory_request, memory_limit]
                .iter()
                .all(|q| q.is_none())
            {
                return Err(format!("{component}: a resources edit sets nothing"));
            }
            for q in [cpu_request, cpu_limit].into_iter().flatten() {
                bounded(component, q, "cpu", MAX_CORES, "cores")?;
            }
            for q in [memory_request, memory_limit].into_iter().flatten() {
                bounded(component, q, "memory", MAX_MEMORY_GI * GI, "bytes")?;
            }
            Ok(())
        }
        Edit::Env {
            component,
            container,
            name,
            value,
            ..
        } => {
            has_container(part(component)?, container.as_deref())?;
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
            if !valid {
                return Err(format!(
                    "{component}: `{name}` is not an environment variable name"
                ));
            }
            match value {
                EnvValue::SecretRef { .. } => Err(format!(
                    "{component}: {name}: the change box sets values, not Secret references"
                )),
                EnvValue::Value { .. } | EnvValue::Unset => Ok(()),
            }
        }
        Edit::Storage {
            component,
            volume,
            size,
        } => {
            let p = part(component)?;
            let new = parse_quantity(size, "storage").map_err(|e| format!("{component}: {e}"))?;
            if new <= 0.0 {
                return Err(format!("{component}: storage of {size} is no storage"));
            }
            let volumes: Vec<_> = p
                .spec
                .volumes
                .iter()
                .filter(|v| volume.as_deref().is_none_or(|n| n == v.name))
                .collect();
            if volumes.is_empty() {
                return Err(format!("{component} has no such volume"));
            }
            for v in volumes {
                if parse_quantity(&v.size, "storage").is_ok_and(|now| new < now) {
                    return Err(format!(
                        "{component}: {} is {}; storage cannot shrink to {size}",
                        v.name, v.size
                    ));
                }
            }
            Ok(())
        }
        Edit::Image {
            component,
            container,
            image,
        } => {
            has_container(part(component)?, container.as_deref())?;
            if image.is_empty() || image.len() > 512 || image.chars().any(|c| c.is_whitespace()) {
                return Err(format!("{component}: `{image}` is not an image reference"));
            }
            Ok(())
        }
        Edit::Domain { host } => {
            if !model.has_domain {
                return Err(format!(
                    "{} has no Ingress to set a domain on",
                    model.instance
                ));
            }
            let label_ok = |l: &str| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            };
            if host.len() > 253 || !host.split('.').all(label_ok) {
                return Err(format!("`{host}` is not a host name"));
            }
            Ok(())
        }
        Edit::Restart { component, .. } => part(component).map(drop),
        Edit::Pause { component } | Edit::Resume { component } => {
            let p = part(component)?;
            match p.spec.replicas {
                Some(_) => Ok(()),
                None => Err(format!(
                    "{component} has no replica count to pause or resume"
                )),
            }
        }
        Edit::Input { name, .. } => Err(format!(
            "input {name}: the change box does not change template inputs"
        )),
        Edit::Manifest { object, .. } => Err(format!(
            "{} {}: the change box does not edit manifests",
            object.kind, object.name
        )),
    }
}

const GI: f64 = 1024.0 * 1024.0 * 1024.0;

fn has_container(part: &Part, container: Option<&str>) -> Result<(), String> {
    let found = match container {
        None => !part.spec.containers.is_empty(),
        Some(name) => part.spec.containers.iter().any(|c| c.name == name),
    };
    if found {
        Ok(())
    } else {
        Err(format!(
            "{} has no container {}",
            part.id,
            container.unwrap_or_default()
        ))
    }
}

fn bounded(
    component: &str,
    q: &str,
    what: &'static str,
    max: f64,
    unit: &str,
) -> Result<(), String> {
    let v = parse_quantity(q, what).map_err(|e| format!("{component}: {e}"))?;
    if v <= 0.0 || v > max {
        return Err(format!(
            "{component}: {what} {q} is out of bounds (more than 0, at most {max} {unit})"
        ));
    }
    Ok(())
}
