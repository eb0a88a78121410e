//! One setting on one component, as an edit: checked against its recorded spec and the bounds,
//! relative values computed from the recorded revision. A value that could mean two things is a
//! question whose answers each carry their edit.
//!
//! The default rule for a bare amount ("give web 1Gi memory", "2 cores"): it sets the **limit**;
//! the request stays, unless it is above the new limit, when it is lowered to the limit too.
//! "request" and "limit" choose; "request and limit" sets both. Relative amounts ("add 500m cpu",
//! "10% more memory", "double the memory") start from the recorded value of the same side (the
//! limit by default), rounded up to a whole Mi (or M, for decimal values) and a whole millicore.

use app::model::{Edit, EnvValue, IntentChoice};

use super::{
    Part,
    amount::{self, Amount, Unit},
    lex::Item,
    settings::{How, Setting},
    words::{Attr, Side},
};

/// More replicas than this is refused.
pub const MAX_REPLICAS: f64 = 50.0;
/// More cores than this is refused.
pub const MAX_CORES: f64 = 64.0;
/// More memory than this many Gi is refused.
pub const MAX_MEMORY_GI: f64 = 256.0;

/// A question (with its answers), or a refusal (no answers).
pub struct Ask(pub String, pub Vec<IntentChoice>);

fn refuse<T>(why: String) -> Result<T, Ask> {
    Err(Ask(why, Vec::new()))
}

pub fn one(s: &Setting, part: &Part, items: &[Item]) -> Result<Option<(Edit, String)>, Ask> {
    let id = &part.id;
    match s {
        Setting::Env { name, value } => {
            if part.spec.containers.is_empty() {
                return refuse(format!("{id} has no containers"));
            }
            let (value, words) = match value {
                Some(v) => (
                    EnvValue::Value { value: v.clone() },
                    format!("{id}: set {name}"),
                ),
                None => (EnvValue::Unset, format!("{id}: remove {name}")),
            };
            Ok(Some((
                Edit::Env {
                    component: id.clone(),
                    container: None,
                    name: name.clone(),
                    value,
                    secret: false,
                },
                words,
            )))
        }
        Setting::Image(image) => {
            if part.spec.containers.is_empty() {
                return refuse(format!("{id} has no containers"));
            }
            Ok(Some((
                Edit::Image {
                    component: id.clone(),
                    container: None,
                    image: image.clone(),
                },
                format!("{id}: image {image}"),
            )))
        }
        Setting::Domain(_) => Ok(None),
        Setting::Amount {
            attr,
            how,
            unit,
            binary,
            sides,
        } => {
            let attr = match attr {
                Some(a) => *a,
                None => return ask_attr(s, part, items, *unit),
            };
            match attr {
                Attr::Replicas => replicas(part, *how).map(Some),
                Attr::Cpu | Attr::Memory => resources(part, attr, *how, *binary, sides).map(Some),
                Attr::Storage => storage(part, *how, *binary, items).map(Some),
                Attr::Image | Attr::Domain => Ok(None),
            }
        }
    }
}

/// A value with no attribute: "give capture 3" (replicas or cores?), "give clickhouse 10Gi"
/// (memory or disk?). Asks, unless only one reading applies to the component.
fn ask_attr(
    s: &Setting,
    part: &Part,
    items: &[Item],
    unit: Option<Unit>,
) -> Result<Option<(Edit, String)>, Ask> {
    let Setting::Amount {
        how, binary, sides, ..
    } = s
    else {
        return Ok(None);
    };
    let readings: &[Attr] = match unit {
        Some(Unit::Bytes) => &[Attr::Memory, Attr::Storage],
        _ => &[Attr::Replicas, Attr::Cpu],
    };
    let mut choices = Vec::new();
    for a in readings {
        let how = match (a, how) {
            (Attr::Cpu, How::To(n)) if unit.is_none() => How::To(*n),
            _ => *how,
        };
        let made = match a {
            Attr::Replicas => replicas(part, how),
            Attr::Storage => storage(part, how, *binary, items),
            _ => resources(part, *a, how, *binary, sides),
        };
        if let Ok((edit, words)) = made {
            choices.push(IntentChoice {
                label: words,
                edits: vec![edit],
                rollback_to: None,
            });
        }
    }
    if choices.len() > 1 {
        return Err(Ask(format!("What should change on {}?", part.id), choices));
    }
    // One reading only: it is the change (each choice was made with exactly one edit).
    match choices
        .pop()
        .and_then(|c| Some((c.edits.into_iter().next()?, c.label)))
    {
        Some(only) => Ok(Some(only)),
        None => refuse(format!(
            "I couldn't tell what that amount is for on {}; say replicas, cpu, memory or disk",
            part.id
        )),
    }
}

fn replicas(part: &Part, how: How) -> Result<(Edit, String), Ask> {
    let id = &part.id;
    let Some(now) = part.spec.replicas else {
        return refuse(format!("{id} has no replica count"));
    };
    let n = match how {
        How::To(n) => n,
        How::Add(d) => now as f64 + d,
        How::Times(f) => now as f64 * f,
    };
    if n.fract() != 0.0 {
        return refuse(format!(
            "{id} would have {n} replicas; replicas are whole numbers"
        ));
    }
    if n < 0.0 {
        return refuse(format!("{id} cannot have fewer than 0 replicas"));
    }
    if n > MAX_REPLICAS {
        return refuse(format!(
            "{n} replicas is more than {MAX_REPLICAS} replicas, the most Berth sets"
        ));
    }
    Ok((
        Edit::Replicas {
            component: id.clone(),
            replicas: n as u32,
        },
        format!("{id}: {n} replicas"),
    ))
}

fn resources(
    part: &Part,
    attr: Attr,
    how: How,
    binary: bool,
    sides: &[Side],
) -> Result<(Edit, String), Ask> {
    let id = &part.id;
    let Some(c) = part.spec.containers.first() else {
        return refuse(format!("{id} has no containers"));
    };
    let (what, unit) = if attr == Attr::Cpu {
        ("cpu", Unit::Cores)
    } else {
        ("memory", Unit::Bytes)
    };
    let (request, limit) = if attr == Attr::Cpu {
        (&c.cpu_request, &c.cpu_limit)
    } else {
        (&c.memory_request, &c.memory_limit)
    };
    let side = if sides.contains(&Side::Request) && !sides.contains(&Side::Limit) {
        Side::Request
    } else {
        Side::Limit
    };
    let both = sides.contains(&Side::Request) && sides.contains(&Side::Limit);
    let base = if side == Side::Request {
        request
    } else {
        limit
    };
    let value = match how {
        How::To(v) => v,
        How::Add(d) | How::Times(d) => {
            let Some(now) = base.as_deref().and_then(|t| amount::recorded(t, unit)) else {
                return refuse(format!(
                    "{id} has no {what} {} to start from; say an amount, e.g. \"give {id} {} {what} {}\"",
                    side_word(side),
                    if unit == Unit::Cores { "1" } else { "1Gi" },
                    side_word(side)
                ));
            };
            match how {
                How::Add(_) => now + d,
                _ => now * d,
            }
        }
    };
    let binary = match how {
        How::To(_) => binary,
        _ => base.as_deref().is_none_or(amount::is_binary),
    };
    let Some(q) = quantity(value, unit, binary, !matches!(how, How::To(_))) else {
        return refuse(format!("{value} is not a {what} amount Berth can set"));
    };
    if q.value <= 0.0 {
        return refuse(format!("{id} needs more than 0 {what}"));
    }
    if unit == Unit::Cores && q.value > MAX_CORES {
        return refuse(format!(
            "{} cores is more than {MAX_CORES} cores, the most Berth sets",
            q.value
        ));
    }
    if unit == Unit::Bytes && q.value > MAX_MEMORY_GI * 1073741824.0 {
        return refuse(format!(
            "{} of memory is more than {MAX_MEMORY_GI}Gi, the most Berth sets",
            q.text
        ));
    }
    let text = Some(q.text.clone());
    let lower_request = !both
        && side == Side::Limit
        && request
            .as_deref()
            .and_then(|r| amount::recorded(r, unit))
            .is_some_and(|r| r > q.value);
    let (req, lim) = match (both, side) {
        (true, _) => (text.clone(), text),
        (false, Side::Request) => (text, None),
        (false, Side::Limit) => (lower_request.then(|| q.text.clone()), text),
    };
    let words = match (&req, &lim) {
        (Some(_), Some(_)) => format!("{id}: {what} request and limit {}", q.text),
        (Some(_), None) => format!("{id}: {what} request {}", q.text),
        _ => format!("{id}: {what} limit {}", q.text),
    };
    let edit = if attr == Attr::Cpu {
        Edit::Resources {
            component: id.clone(),
            container: None,
            cpu_request: req,
            cpu_limit: lim,
            memory_request: None,
            memory_limit: None,
        }
    } else {
        Edit::Resources {
            component: id.clone(),
            container: None,
            cpu_request: None,
            cpu_limit: None,
            memory_request: req,
            memory_limit: lim,
        }
    };
    Ok((edit, words))
}

fn side_word(s: Side) -> &'static str {
    if s == Side::Request {
        "request"
    } else {
        "limit"
    }
}

/// A computed value as a quantity: rounded up to a whole Mi (M) and millicore when `round`.
fn quantity(value: f64, unit: Unit, binary: bool, round: bool) -> Option<Amount> {
    match unit {
        Unit::Cores => amount::cores(if round {
            (value * 1000.0).ceil() / 1000.0
        } else {
            value
        }),
        Unit::Bytes => {
            let step = if binary { 1048576.0 } else { 1e6 };
            amount::bytes(
                if round {
                    (value / step).ceil() * step
                } else {
                    value
                },
                binary,
            )
        }
    }
}

fn storage(part: &Part, how: How, binary: bool, items: &[Item]) -> Result<(Edit, String), Ask> {
    let id = &part.id;
    let volumes = &part.spec.volumes;
    let named = volumes.iter().find(|v| {
        items.iter().any(
            |i| matches!(i, Item::Unknown(w) | Item::Text(w) if w.eq_ignore_ascii_case(&v.name)),
        )
    });
    let volume = match (named, volumes.as_slice()) {
        (Some(v), _) => v,
        (None, []) => return refuse(format!("{id} has no volumes")),
        (None, [only]) => only,
        (None, several) => {
            let choices = several
                .iter()
                .filter_map(|v| {
                    let one = app::model::ComponentSpec {
                        volumes: vec![v.clone()],
                        ..part.spec.clone()
                    };
                    let p = Part {
                        spec: one,
                        ..part.clone()
                    };
                    storage(&p, how, binary, &[])
                        .ok()
                        .map(|(e, words)| IntentChoice {
                            label: words,
                            edits: vec![e],
                            rollback_to: None,
                        })
                })
                .collect();
            return Err(Ask(format!("Which volume of {id}?"), choices));
        }
    };
    let now = amount::recorded(&volume.size, Unit::Bytes).unwrap_or(0.0);
    let value = match how {
        How::To(v) => v,
        How::Add(d) => now + d,
        How::Times(f) => now * f,
    };
    let binary = if matches!(how, How::To(_)) {
        binary
    } else {
        amount::is_binary(&volume.size)
    };
    let Some(q) = quantity(value, Unit::Bytes, binary, !matches!(how, How::To(_))) else {
        return refuse(format!("{value} is not a size Berth can set"));
    };
    if q.value < now {
        return refuse(format!(
            "{id}'s volume {} cannot shrink from {} to {}: storage only grows",
            volume.name, volume.size, q.text
        ));
    }
    Ok((
        Edit::Storage {
            component: id.clone(),
            volume: (volumes.len() > 1).then(|| volume.name.clone()),
            size: q.text.clone(),
        },
        format!("{id}: storage {} {}", volume.name, q.text),
    ))
}
