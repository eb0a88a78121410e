//! One clause's items to edits: its verb, its targets and its values, checked against the
//! instance's recorded spec and the bounds.
//!
//! The default rule for a bare amount ("give web 1Gi memory", "2 cores"): it sets the **limit**;
//! the request stays, unless it is above the new limit, when it is lowered to the limit too.
//! "request" and "limit" in the clause choose; "request and limit" sets both. Relative amounts
//! ("add 500m cpu", "10% more memory", "double the memory") start from the recorded value of the
//! same side (the limit by default), rounded up to a whole Mi (or M, for decimal values) and a
//! whole millicore.

use app::model::{Edit, EnvValue, IntentChoice};

use super::{
    Model, Part,
    amount::{self, Amount, Unit},
    lex::Item,
    words::{Attr, Side, Verb},
};

/// More replicas than this is refused.
pub const MAX_REPLICAS: f64 = 50.0;
/// More cores than this is refused.
pub const MAX_CORES: f64 = 64.0;
/// More memory than this many Gi is refused.
pub const MAX_MEMORY_GI: f64 = 256.0;

/// What one clause resolved to.
#[derive(Debug)]
pub enum Resolved {
    Edits(Vec<Edit>, Vec<String>),
    Rollback(i64),
    Question(String, Vec<IntentChoice>),
    Refusal(String),
    NoMatch,
}

/// How a value changes what is there.
#[derive(Debug, Clone, Copy, PartialEq)]
enum How {
    To(f64),
    Add(f64),
    Times(f64),
}

/// One setting read from a clause.
#[derive(Debug, Clone)]
enum Setting {
    /// Replicas, CPU, memory or storage (`attr` None: a bare number or bytes, to be asked).
    Amount {
        attr: Option<Attr>,
        how: How,
        unit: Option<Unit>,
        binary: bool,
        sides: Vec<Side>,
    },
    Env {
        name: String,
        value: Option<String>,
    },
    Image(String),
    Domain(String),
}

/// Reads one clause.
pub fn clause(items: &[Item], model: &Model) -> Resolved {
    let verbs: Vec<Verb> = items
        .iter()
        .filter_map(|i| match i {
            Item::Verb(v) => Some(*v),
            _ => None,
        })
        .collect();
    let verb = verbs
        .iter()
        .copied()
        .find(|v| !matches!(v, Verb::Times(_)))
        .or(verbs.first().copied());
    if verb == Some(Verb::Rollback) {
        return rollback(items, model);
    }
    let mut targets: Vec<String> = Vec::new();
    for i in items {
        if let Item::Target { ids, .. } = i {
            for id in ids {
                if !targets.contains(id) {
                    targets.push(id.clone());
                }
            }
        }
    }
    // "storage" is a component of some stacks and a word for disk: with no other target, it is
    // the component, unless the clause gives a size and no other use for it ("give 20Gi of
    // storage" names no component).
    let sized = items
        .iter()
        .any(|i| matches!(i, Item::Amount(a) if a.unit == Unit::Bytes));
    let storage_part = model.part("storage").is_some()
        && targets.is_empty()
        && items.iter().any(|i| *i == Item::Attr(Attr::Storage))
        && !(sized && !items.contains(&Item::Attr(Attr::Memory)));
    let kept: Vec<Item>;
    let items = if storage_part {
        targets.push("storage".into());
        kept = items
            .iter()
            .filter(|i| **i != Item::Attr(Attr::Storage))
            .cloned()
            .collect();
        &kept[..]
    } else {
        items
    };
    let unknown: Vec<String> = items
        .iter()
        .filter_map(|i| match i {
            Item::Unknown(w) => Some(w.clone()),
            _ => None,
        })
        .collect();
    let settings = match settings(items, verb, &verbs) {
        Ok(s) => s,
        Err(why) => return Resolved::Refusal(why),
    };
    let acts = matches!(
        verb,
        Some(Verb::Restart | Verb::Pause | Verb::Resume | Verb::Remove)
    );
    if settings.is_empty() && !acts {
        return if targets.is_empty() {
            Resolved::NoMatch
        } else {
            Resolved::Refusal(format!(
                "{}: say what to change on {}",
                super::NO_MATCH,
                targets.join(", ")
            ))
        };
    }
    if let Some(w) = unknown.first() {
        return Resolved::Refusal(if targets.is_empty() {
            format!(
                "there is no component `{w}` in this instance; it has: {}",
                model
                    .parts
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!("I don't understand `{w}` here")
        });
    }
    let needs_target = acts || settings.iter().any(|s| !matches!(s, Setting::Domain(_)));
    // Targets to ask about: a misspelt name, or one of several ("the database").
    if needs_target && targets.is_empty() {
        let ask = items.iter().find_map(|i| match i {
            Item::Typo { word, ids } => Some((
                format!("There is no `{word}`. Did you mean {}?", or_list(ids)),
                ids.clone(),
            )),
            Item::OneOf { word, ids } => {
                Some((format!("Which {word}: {}?", or_list(ids)), ids.clone()))
            }
            _ => None,
        });
        let candidates: Vec<String> = match &ask {
            Some((_, ids)) => ids.clone(),
            None => model
                .parts
                .iter()
                .filter(|p| p.spec.replicas.is_some() || !p.spec.containers.is_empty())
                .map(|p| p.id.clone())
                .collect(),
        };
        let question = ask
            .map(|(q, _)| q)
            .unwrap_or_else(|| "Which component?".into());
        let mut choices = Vec::new();
        for id in candidates {
            if let Resolved::Edits(edits, _) = apply(&settings, verb, &[id.clone()], items, model) {
                choices.push(IntentChoice {
                    label: id,
                    edits,
                    rollback_to: None,
                });
            }
        }
        return match choices.len() {
            0 => Resolved::Refusal("name the component to change".into()),
            _ => Resolved::Question(question, choices),
        };
    }
    apply(&settings, verb, &targets, items, model)
}

fn or_list(ids: &[String]) -> String {
    match ids {
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
        [] => String::new(),
    }
}

fn rollback(items: &[Item], model: &Model) -> Resolved {
    let asked = items.iter().find_map(|i| match i {
        Item::Revision(n) => Some(*n),
        Item::Number(n) if n.fract() == 0.0 => Some(*n as i64),
        _ => None,
    });
    match asked {
        Some(n) if model.restorable.contains(&n) => Resolved::Rollback(n),
        Some(n) if n == model.revision => {
            Resolved::Refusal(format!("revision {n} is the current revision"))
        }
        Some(n) => Resolved::Refusal(format!(
            "revision {n} cannot be restored; these can: {}",
            model
                .restorable
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        None => match model.restorable.first() {
            Some(n) => Resolved::Rollback(*n),
            None => Resolved::Refusal("there is no earlier revision to roll back to".into()),
        },
    }
}

/// The settings a clause names.
fn settings(items: &[Item], verb: Option<Verb>, verbs: &[Verb]) -> Result<Vec<Setting>, String> {
    let mut out = Vec::new();
    let is_value = |i: &Item| {
        matches!(
            i,
            Item::Amount(_)
                | Item::Number(_)
                | Item::Signed(_)
                | Item::Percent(_)
                | Item::Verb(Verb::Times(_))
        )
    };
    // The attribute a value at `at` is for: the nearest after it, else before it.
    let attr_near = |at: usize| -> Option<(Attr, usize)> {
        let after = items[at + 1..]
            .iter()
            .enumerate()
            .take(3)
            .take_while(|(_, i)| !is_value(i))
            .find_map(|(k, i)| match i {
                Item::Attr(a) => Some((*a, at + 1 + k)),
                _ => None,
            });
        after.or_else(|| {
            items[..at]
                .iter()
                .enumerate()
                .rev()
                .take(4)
                .take_while(|(_, i)| !is_value(i))
                .find_map(|(k, i)| match i {
                    Item::Attr(a) => Some((*a, k)),
                    _ => None,
                })
        })
    };
    // Each "request" or "limit" belongs to the value it leads to ("limit to 3Gi"), else to the
    // value before it ("1Gi memory limit").
    let between = |i: &Item| matches!(i, Item::Attr(_) | Item::Side(_) | Item::To | Item::By);
    let owner_of_side = |s: usize| -> Option<usize> {
        let ahead = (s + 1..items.len())
            .take(3)
            .take_while(|&k| between(&items[k]) || is_value(&items[k]))
            .find(|&k| is_value(&items[k]));
        ahead.or_else(|| {
            (0..s)
                .rev()
                .take(3)
                .take_while(|&k| between(&items[k]) || is_value(&items[k]))
                .find(|&k| is_value(&items[k]))
        })
    };
    let sides_of = |at: usize| -> Vec<Side> {
        let mut s: Vec<Side> = items
            .iter()
            .enumerate()
            .filter_map(|(k, i)| match i {
                Item::Side(side) if owner_of_side(k) == Some(at) => Some(*side),
                _ => None,
            })
            .collect();
        s.dedup();
        s
    };
    let next_is = |at: usize, f: fn(&Item) -> bool| {
        items[at + 1..]
            .iter()
            .take(3)
            .take_while(|i| !is_value(i))
            .any(f)
    };
    let before_is = |at: usize, want: &Item| at > 0 && items[at - 1] == *want;
    let relative = |at: usize| -> Option<f64> {
        if next_is(at, |i| *i == Item::More) {
            Some(1.0)
        } else if next_is(at, |i| *i == Item::Less) {
            Some(-1.0)
        } else if before_is(at, &Item::To) {
            None
        } else if verb == Some(Verb::Add) || before_is(at, &Item::By) && verb != Some(Verb::Reduce)
        {
            Some(1.0)
        } else if verb == Some(Verb::Reduce) {
            Some(-1.0)
        } else {
            None
        }
    };
    let times_verb = verbs.iter().any(|v| matches!(v, Verb::Times(_)));
    for (at, item) in items.iter().enumerate() {
        let near = attr_near(at);
        let sides = |_: Option<(Attr, usize)>| sides_of(at);
        match item {
            Item::Amount(a) => {
                let attr = match a.unit {
                    Unit::Cores => Some(Attr::Cpu),
                    Unit::Bytes => near
                        .map(|n| n.0)
                        .filter(|a| matches!(a, Attr::Memory | Attr::Storage)),
                };
                let how = match relative(at) {
                    Some(sign) => How::Add(sign * a.value),
                    None => How::To(a.value),
                };
                out.push(Setting::Amount {
                    attr,
                    how,
                    unit: Some(a.unit),
                    binary: amount::is_binary(&a.text),
                    sides: sides(near),
                });
            }
            Item::Number(n) => {
                if at > 0 && matches!(items[at - 1], Item::Revision(_)) {
                    continue;
                }
                let attr = near
                    .map(|n| n.0)
                    .or((verb == Some(Verb::Scale)).then_some(Attr::Replicas));
                if matches!(attr, Some(Attr::Memory | Attr::Storage)) {
                    return Err(format!(
                        "{n} what? Say it with a unit: {n}Gi, {n}G or {n}Mi"
                    ));
                }
                if matches!(attr, Some(Attr::Image | Attr::Domain)) {
                    continue;
                }
                let how = match relative(at) {
                    Some(sign) => How::Add(sign * n),
                    None => How::To(*n),
                };
                out.push(Setting::Amount {
                    attr,
                    how,
                    unit: None,
                    binary: false,
                    sides: sides(near),
                });
            }
            Item::Signed(n) => {
                let attr = near.map(|n| n.0).or(Some(Attr::Replicas));
                out.push(Setting::Amount {
                    attr,
                    how: How::Add(*n),
                    unit: None,
                    binary: false,
                    sides: sides(near),
                });
            }
            Item::Percent(p) => {
                let sign = relative(at).ok_or_else(|| {
                    format!("{p}% more or less? Say \"{p}% more memory\" or \"{p}% less\"")
                })?;
                let attr = near.map(|n| n.0);
                if attr.is_none() {
                    return Err(format!(
                        "{p}% more of what? Say \"{p}% more memory\" or \"{p}% more cpu\""
                    ));
                }
                out.push(Setting::Amount {
                    attr,
                    how: How::Times(1.0 + sign * p / 100.0),
                    unit: None,
                    binary: true,
                    sides: sides(near),
                });
            }
            Item::Verb(Verb::Times(n)) => {
                let factor = if *n == 0 { 0.5 } else { f64::from(*n) };
                let attr = items.iter().find_map(|i| match i {
                    Item::Attr(a) if !matches!(a, Attr::Image | Attr::Domain) => Some(*a),
                    _ => None,
                });
                // A factor takes the clause's sides that no amount owns ("double the memory
                // request").
                let mut free: Vec<Side> = items
                    .iter()
                    .enumerate()
                    .filter_map(|(k, i)| match i {
                        Item::Side(s) if owner_of_side(k).is_none_or(|o| o == at) => Some(*s),
                        _ => None,
                    })
                    .collect();
                free.dedup();
                out.push(Setting::Amount {
                    attr: attr.or(Some(Attr::Replicas)),
                    how: How::Times(factor),
                    unit: None,
                    binary: true,
                    sides: free,
                });
            }
            Item::EnvSet { name, value } => out.push(Setting::Env {
                name: name.clone(),
                value: (verb != Some(Verb::Remove)).then(|| value.clone()),
            }),
            Item::EnvName(name) => {
                if verb == Some(Verb::Remove) {
                    out.push(Setting::Env {
                        name: name.clone(),
                        value: None,
                    });
                } else {
                    return Err(format!("set {name} to what? Say {name}=value"));
                }
            }
            Item::Text(t) => match near.map(|n| n.0) {
                Some(Attr::Domain) => out.push(Setting::Domain(t.to_lowercase())),
                Some(Attr::Image) => out.push(Setting::Image(t.clone())),
                _ if t.contains(['/', ':']) && !t.contains("://") => {
                    out.push(Setting::Image(t.clone()))
                }
                _ => return Err(format!("I don't understand `{t}` here")),
            },
            _ => {}
        }
    }
    if times_verb
        && out
            .iter()
            .filter(|s| {
                matches!(
                    s,
                    Setting::Amount {
                        how: How::Times(_),
                        ..
                    }
                )
            })
            .count()
            > 1
    {
        return Err("one factor at a time, please".into());
    }
    Ok(out)
}

/// The edits `settings` (and `verb`) make on `targets`.
fn apply(
    settings: &[Setting],
    verb: Option<Verb>,
    targets: &[String],
    items: &[Item],
    model: &Model,
) -> Resolved {
    let mut edits = Vec::new();
    let mut summary = Vec::new();
    let secret = items.contains(&Item::Secret);
    for id in targets {
        let Some(part) = model.part(id) else { continue };
        match verb {
            Some(Verb::Restart) => {
                if part.spec.replicas.is_none() && part.spec.containers.is_empty() {
                    return Resolved::Refusal(format!("{id} has no pods to restart"));
                }
                edits.push(Edit::Restart {
                    component: id.clone(),
                    at: None,
                });
                summary.push(format!("restart {id}"));
            }
            Some(Verb::Pause) => {
                if part.spec.replicas.is_none() {
                    return Resolved::Refusal(format!("{id} has no replica count to pause"));
                }
                edits.push(Edit::Pause {
                    component: id.clone(),
                });
                summary.push(format!("pause {id}"));
            }
            Some(Verb::Resume) => {
                if part.spec.replicas.is_none() {
                    return Resolved::Refusal(format!("{id} has no replica count to resume"));
                }
                edits.push(Edit::Resume {
                    component: id.clone(),
                });
                summary.push(format!("resume {id}"));
            }
            _ => {}
        }
    }
    for s in settings {
        if let Setting::Domain(host) = s {
            if !model.has_domain {
                return Resolved::Refusal(
                    "this instance has no Ingress, so it has no domain to set".into(),
                );
            }
            edits.push(Edit::Domain { host: host.clone() });
            summary.push(format!("domain {host}"));
            continue;
        }
        for id in targets {
            let Some(part) = model.part(id) else { continue };
            match one(s, part, items) {
                Ok(Some((mut e, words))) => {
                    if let Edit::Env { secret: sec, .. } = &mut e {
                        *sec = secret;
                    }
                    edits.push(e);
                    summary.push(words);
                }
                Ok(None) => {}
                Err(Ask(q, choices)) if choices.is_empty() => return Resolved::Refusal(q),
                Err(Ask(q, choices)) => return Resolved::Question(q, choices),
            }
        }
    }
    if edits.is_empty() {
        return Resolved::Refusal(format!("nothing to change on {}", targets.join(", ")));
    }
    Resolved::Edits(edits, summary)
}

/// A question (with its answers), or a refusal (no answers).
struct Ask(String, Vec<IntentChoice>);

fn refuse<T>(why: String) -> Result<T, Ask> {
    Err(Ask(why, Vec::new()))
}

fn one(s: &Setting, part: &Part, items: &[Item]) -> Result<Option<(Edit, String)>, Ask> {
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
    match choices.len() {
        0 => refuse(format!(
            "I couldn't tell what that amount is for on {}; say replicas, cpu, memory or disk",
            part.id
        )),
        1 => {
            let c = choices.remove(0);
            Ok(Some((
                c.edits.into_iter().next().expect("one edit"),
                c.label,
            )))
        }
        _ => Err(Ask(format!("What should change on {}?", part.id), choices)),
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
