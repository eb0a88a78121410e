//! One clause's items to an answer: its verb and targets (asking when a target is misspelt or
//! one of several), its settings ([`super::settings`]) made into edits on each target
//! ([`super::edit`]), or the revision a rollback restores.

use app::model::{Edit, IntentChoice};

use super::{
    Model,
    amount::Unit,
    edit::{Ask, one},
    lex::Item,
    settings::{Setting, settings},
    words::{Attr, Verb},
};

/// What one clause resolved to.
#[derive(Debug)]
pub enum Resolved {
    Edits(Vec<Edit>, Vec<String>),
    Rollback(i64),
    Question(String, Vec<IntentChoice>),
    Refusal(String),
    NoMatch,
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
        && items.contains(&Item::Attr(Attr::Storage))
        && (!sized || items.contains(&Item::Attr(Attr::Memory)));
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
    if settings.is_empty()
        && verb == Some(Verb::Scale)
        && unknown.is_empty()
        && let Some(asked) = how_many(&targets, model)
    {
        return asked;
    }
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
            if let Resolved::Edits(edits, _) =
                apply(&settings, verb, std::slice::from_ref(&id), items, model)
            {
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
            Some(v @ (Verb::Pause | Verb::Resume)) => {
                let (word, edit) = if v == Verb::Pause {
                    (
                        "pause",
                        Edit::Pause {
                            component: id.clone(),
                        },
                    )
                } else {
                    (
                        "resume",
                        Edit::Resume {
                            component: id.clone(),
                        },
                    )
                };
                if part.spec.replicas.is_none() {
                    return Resolved::Refusal(format!("{id} has no replica count to {word}"));
                }
                edits.push(edit);
                summary.push(format!("{word} {id}"));
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

/// "scale ingestion" with no count: a question whose answers are one more replica each, and
/// twice as many, for the targets that have a replica count (never a guess at one of them).
fn how_many(targets: &[String], model: &Model) -> Option<Resolved> {
    let counted: Vec<(&str, i64)> = targets
        .iter()
        .filter_map(|t| Some((t.as_str(), model.part(t)?.spec.replicas?)))
        .collect();
    if counted.is_empty() {
        return None;
    }
    let max = super::MAX_REPLICAS as i64;
    let choice = |label: &str, f: &dyn Fn(i64) -> i64| {
        let to: Vec<(&str, i64)> = counted
            .iter()
            .map(|(id, n)| (*id, f(*n).min(max)))
            .collect();
        IntentChoice {
            label: format!(
                "{label}: {}",
                to.iter()
                    .map(|(id, n)| format!("{id} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            edits: to
                .iter()
                .map(|(id, n)| Edit::Replicas {
                    component: id.to_string(),
                    replicas: *n as u32,
                })
                .collect(),
            rollback_to: None,
        }
    };
    let names: Vec<&str> = counted.iter().map(|(id, _)| *id).collect();
    let mut choices = vec![choice("one more each", &|n| n + 1)];
    let doubled = choice("twice as many", &|n| (n * 2).max(1));
    if doubled.edits != choices[0].edits {
        choices.push(doubled);
    }
    Some(Resolved::Question(
        format!("How many replicas for {}?", or_list_and(&names)),
        choices,
    ))
}

fn or_list_and(names: &[&str]) -> String {
    match names {
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        [] => String::new(),
    }
}
