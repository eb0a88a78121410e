//! The settings a clause names: each amount with what it is for (replicas, cpu, memory, disk),
//! how it changes what is there (to, by, times), and its request or limit; env values, images
//! and hosts.

use super::{
    amount::{self, Unit},
    lex::Item,
    words::{Attr, Side, Verb},
};

/// How a value changes what is there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum How {
    To(f64),
    Add(f64),
    Times(f64),
}

/// One setting read from a clause.
#[derive(Debug, Clone)]
pub enum Setting {
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

/// The settings a clause names.
pub fn settings(
    items: &[Item],
    verb: Option<Verb>,
    verbs: &[Verb],
) -> Result<Vec<Setting>, String> {
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
