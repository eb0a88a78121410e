//! From text to items: words are read against the vocabulary ([`super::words`]), the instance's
//! components and the template's aliases, and amounts ([`super::amount`]); then split into
//! clauses at "and", commas and semicolons. A clause without a verb of its own continues the one
//! before it ("give capture 3 replicas and 1Gi memory"), unless it is complete by itself.

use super::{
    Model,
    amount::{self, Amount},
    words::{self, Attr, Side, Verb},
};

/// One thing a word (or a few) said.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Verb(Verb),
    /// Components, and the words that named them.
    Target {
        ids: Vec<String>,
        word: String,
    },
    /// A kind word naming one of several ("the database"): a question.
    OneOf {
        ids: Vec<String>,
        word: String,
    },
    /// A word close to a component's name.
    Typo {
        word: String,
        ids: Vec<String>,
    },
    Unknown(String),
    Amount(Amount),
    Number(f64),
    Signed(f64),
    Percent(f64),
    Attr(Attr),
    Side(Side),
    More,
    Less,
    Secret,
    To,
    By,
    /// `NAME=value`.
    EnvSet {
        name: String,
        value: String,
    },
    /// An environment variable's name (`SENTRY_DSN`).
    EnvName(String),
    /// A value as typed: an image, a host, an env value.
    Text(String),
    Revision(i64),
    Last,
    /// "it", "them": the targets of the clause before.
    Pronoun,
}

impl Item {
    fn is_target(&self) -> bool {
        matches!(
            self,
            Item::Target { .. } | Item::OneOf { .. } | Item::Typo { .. }
        )
    }

    fn is_value(&self) -> bool {
        matches!(
            self,
            Item::Amount(_)
                | Item::Number(_)
                | Item::Signed(_)
                | Item::Percent(_)
                | Item::EnvSet { .. }
                | Item::Text(_)
                | Item::Revision(_)
                | Item::Last
        )
    }
}

/// Splits text into words (original case): punctuation at a word's edges is dropped, and commas
/// and semicolons become words of their own.
fn split(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text.split_whitespace() {
        let mut w = raw.trim_matches(|c| matches!(c, '"' | '\'' | '`' | '(' | ')' | '“' | '”'));
        let mut trailing = None;
        while let Some(last) = w.chars().last() {
            match last {
                ',' | ';' => {
                    trailing = Some(last.to_string());
                    w = &w[..w.len() - 1];
                }
                '.' | '!' | '?' | ':' => w = &w[..w.len() - 1],
                _ => break,
            }
        }
        let w = w.trim_matches(|c| matches!(c, '"' | '\'' | '`' | '(' | ')'));
        if !w.is_empty() {
            out.push(w.to_string());
        }
        out.extend(trailing);
    }
    out
}

fn is_env_name(word: &str) -> bool {
    let mut chars = word.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && word
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && word.len() >= 2
}

fn looks_like_value(word: &str) -> bool {
    word.contains(['.', ':', '/', '@']) || word.chars().any(|c| c.is_ascii_digit())
}

/// Reads `text` into clauses of items.
pub fn clauses(text: &str, model: &Model) -> Vec<Vec<Item>> {
    let raw = split(text);
    let low: Vec<String> = raw.iter().map(|w| w.to_lowercase()).collect();
    let mut segments: Vec<Vec<Item>> = Vec::new();
    let mut current: Vec<Item> = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let (item, used) = read(&raw, &low, i, model);
        i += used;
        match item {
            None => {}
            Some(Lexed::Sep) => segments.push(std::mem::take(&mut current)),
            Some(Lexed::Item(item)) => current.push(item),
        }
    }
    segments.push(current);
    join(segments)
}

/// A word read: an item, or a clause separator.
enum Lexed {
    Item(Item),
    Sep,
}

/// Reads the item at `i`: the item (None for a filler) and how many words it took.
fn read(raw: &[String], low: &[String], i: usize, model: &Model) -> (Option<Lexed>, usize) {
    let w = low[i].as_str();
    // Longest phrase first: template aliases and component names, then the vocabulary's phrases.
    for n in (2..=3).rev() {
        if i + n > low.len() {
            continue;
        }
        let phrase = low[i..i + n].join(" ");
        if let Some(ids) = model.named(&phrase) {
            return (Some(Lexed::Item(Item::Target { ids, word: phrase })), n);
        }
        if let Some((_, one)) = words::PHRASES.iter().find(|(p, _)| *p == phrase) {
            return (word_item(one, &raw[i], model), n);
        }
    }
    // "all apps", "every app", "all the workers": the word after says which, all of them.
    if matches!(w, "all" | "every") {
        let next = low.get(i + 1).map(String::as_str).unwrap_or("");
        let plural = match next {
            "app" | "application" => "apps",
            "database" | "db" => "databases",
            "queue" => "queues",
            other => other,
        };
        if let Some(item) = model.kind_word(plural) {
            return (Some(Lexed::Item(item)), 2);
        }
        if model.named(next).is_some() || next == "the" {
            return (None, 1);
        }
    }
    // `NAME to value`: an environment variable's new value.
    let vocabulary = words::attr(w).is_some()
        || words::verb(w).is_some()
        || words::side(w).is_some()
        || model.named(w).is_some();
    if is_env_name(&raw[i])
        && !vocabulary
        && low.get(i + 1).is_some_and(|t| t == "to")
        && i + 2 < raw.len()
    {
        return (
            Some(Lexed::Item(Item::EnvSet {
                name: raw[i].clone(),
                value: raw[i + 2].clone(),
            })),
            3,
        );
    }
    if words::is_separator(w) {
        // "request and limit" joins sides of one setting, not two clauses.
        let sides = i > 0
            && i + 1 < low.len()
            && words::side(&low[i - 1]).is_some()
            && words::side(&low[i + 1]).is_some();
        return if sides {
            (None, 1)
        } else {
            (Some(Lexed::Sep), 1)
        };
    }
    // "revision 3", "rev 3", "#3", "r3".
    if (matches!(w, "revision" | "rev" | "version") || w == "number")
        && let Some(n) = low
            .get(i + 1)
            .and_then(|n| n.trim_start_matches('#').parse().ok())
    {
        return (Some(Lexed::Item(Item::Revision(n))), 2);
    }
    if let Some(n) = w.strip_prefix('#').and_then(|n| n.parse().ok()) {
        return (Some(Lexed::Item(Item::Revision(n))), 1);
    }
    let rest: Vec<&str> = low[i..].iter().map(String::as_str).collect();
    if let Some((a, used)) = amount::read(&rest) {
        return (Some(Lexed::Item(Item::Amount(a))), used);
    }
    (word_item(w, &raw[i], model), 1)
}

fn word_item(w: &str, raw: &str, model: &Model) -> Option<Lexed> {
    // A word for disk that is also a component's id ("storage") is read as the word; the clause
    // decides (see `resolve`).
    if let Some(a) = words::attr(w).filter(|_| model.named(w).is_some()) {
        return Some(Lexed::Item(Item::Attr(a)));
    }
    if matches!(w, "it" | "its" | "them" | "their" | "it's") {
        return Some(Lexed::Item(Item::Pronoun));
    }
    if let Some(ids) = model.named(w) {
        return Some(Lexed::Item(Item::Target {
            ids,
            word: w.to_string(),
        }));
    }
    if let Some(item) = model.kind_word(w) {
        return Some(Lexed::Item(item));
    }
    if let Some(v) = words::verb(w) {
        return Some(Lexed::Item(Item::Verb(v)));
    }
    if let Some(a) = words::attr(w) {
        return Some(Lexed::Item(Item::Attr(a)));
    }
    if let Some(s) = words::side(w) {
        return Some(Lexed::Item(Item::Side(s)));
    }
    if let Some((name, value)) = raw.split_once('=')
        && is_env_name(name.trim())
    {
        return Some(Lexed::Item(Item::EnvSet {
            name: name.trim().to_string(),
            value: value.to_string(),
        }));
    }
    if let Some(n) = w.strip_prefix('+').and_then(amount::number) {
        return Some(Lexed::Item(Item::Signed(n)));
    }
    if let Some(n) = w.strip_prefix('-').and_then(amount::number) {
        return Some(Lexed::Item(Item::Signed(-n)));
    }
    if let Some(p) = w.strip_suffix('%').and_then(amount::number) {
        return Some(Lexed::Item(Item::Percent(p)));
    }
    if let Some(n) = w
        .strip_suffix('x')
        .or_else(|| w.strip_prefix('x'))
        .and_then(amount::number)
        .filter(|n| *n >= 1.0)
    {
        return Some(Lexed::Item(Item::Verb(Verb::Times(n as u8))));
    }
    if let Some(n) = amount::number(w) {
        return Some(Lexed::Item(Item::Number(n)));
    }
    Some(Lexed::Item(match w {
        "last" | "previous" => Item::Last,
        "to" | "=" | "at" => Item::To,
        "by" => Item::By,
        "half" => Item::Verb(Verb::Times(0)),
        _ if words::is_more(w) => Item::More,
        _ if words::is_less(w) => Item::Less,
        _ if words::is_secret(w) => Item::Secret,
        _ if is_env_name(raw) => Item::EnvName(raw.to_string()),
        _ if looks_like_value(w) => Item::Text(raw.to_string()),
        _ if words::is_filler(w) => return None,
        _ => {
            let ids = model.close_to(w);
            if ids.is_empty() {
                Item::Unknown(raw.to_string())
            } else {
                Item::Typo {
                    word: raw.to_string(),
                    ids,
                }
            }
        }
    }))
}

/// Groups segments into clauses: a segment without a verb continues the clause before it,
/// unless both are complete (each has a target and a value), in which case it starts a new clause
/// with the same verb.
fn join(segments: Vec<Vec<Item>>) -> Vec<Vec<Item>> {
    let mut clauses: Vec<Vec<Item>> = Vec::new();
    for seg in segments.into_iter().filter(|s| !s.is_empty()) {
        let has_verb = seg.iter().any(|i| matches!(i, Item::Verb(_)));
        let complete = |c: &[Item]| {
            c.iter().any(Item::is_target)
                && c.iter()
                    .any(|i| i.is_value() || matches!(i, Item::Verb(Verb::Times(_))))
        };
        match clauses.last_mut() {
            Some(last) if !(has_verb || complete(last) && complete(&seg)) => last.extend(seg),
            Some(last)
                if has_verb && seg.contains(&Item::Pronoun) && !seg.iter().any(Item::is_target) =>
            {
                let targets: Vec<Item> = last.iter().filter(|i| i.is_target()).cloned().collect();
                clauses.push(seg.into_iter().chain(targets).collect());
            }
            Some(last) if !has_verb => {
                let verb: Vec<Item> = last
                    .iter()
                    .filter(|i| matches!(i, Item::Verb(_)))
                    .take(1)
                    .cloned()
                    .collect();
                clauses.push(verb.into_iter().chain(seg).collect());
            }
            _ => clauses.push(seg),
        }
    }
    clauses
}
