//! The change box's vocabulary: verbs, the attributes they change, requests and limits, relative
//! words, and the filler words that carry no meaning. Everything else must be a target, an
//! amount or a value, or the parser says it does not understand it.

/// What a clause does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// set, give, make, change, use, update, put, allocate, needs.
    Set,
    /// scale.
    Scale,
    /// add, increase, raise, bump, more: relative up (or add env).
    Add,
    /// reduce, decrease, lower, cut: relative down.
    Reduce,
    /// remove, unset, delete, drop (env).
    Remove,
    /// grow, resize, expand, extend (storage).
    Grow,
    Restart,
    Pause,
    Resume,
    Rollback,
    /// double, triple, halve: a factor.
    Times(u8),
}

/// What a value sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attr {
    Replicas,
    Cpu,
    Memory,
    Storage,
    Image,
    Domain,
}

/// Request or limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Request,
    Limit,
}

/// Phrases of several words read as one.
pub const PHRASES: &[(&str, &str)] = &[
    ("roll back", "rollback"),
    ("go back", "rollback"),
    ("rollout restart", "restart"),
    ("scale up", "scale"),
    ("scale down", "scale"),
    ("scale out", "scale"),
    ("scale in", "scale"),
    ("turn off", "pause"),
    ("turn on", "resume"),
    ("shut down", "pause"),
    ("spin down", "pause"),
    ("spin up", "resume"),
    ("bring back", "resume"),
    ("start up", "resume"),
    ("last change", "last"),
    ("previous change", "last"),
    ("last revision", "last"),
    ("previous revision", "last"),
    ("last deploy", "last"),
    ("last one", "last"),
];

pub fn verb(word: &str) -> Option<Verb> {
    Some(match word {
        "set" | "give" | "make" | "change" | "use" | "update" | "put" | "allocate" | "assign"
        | "needs" | "need" | "configure" | "switch" | "upgrade" | "downgrade" | "pin" | "move" => {
            Verb::Set
        }
        "scale" | "run" => Verb::Scale,
        "add" | "increase" | "raise" | "bump" | "boost" => Verb::Add,
        "reduce" | "decrease" | "lower" | "cut" | "shrink" | "trim" => Verb::Reduce,
        "remove" | "unset" | "delete" | "drop" | "clear" => Verb::Remove,
        "grow" | "resize" | "expand" | "extend" | "enlarge" => Verb::Grow,
        "restart" | "reboot" | "bounce" | "recycle" | "redeploy" | "reload" | "kick" => {
            Verb::Restart
        }
        "pause" | "stop" | "suspend" | "hibernate" => Verb::Pause,
        "resume" | "unpause" | "start" | "wake" => Verb::Resume,
        "rollback" | "revert" | "undo" | "restore" => Verb::Rollback,
        "double" | "twice" => Verb::Times(2),
        "triple" | "thrice" => Verb::Times(3),
        "quadruple" => Verb::Times(4),
        "halve" => Verb::Times(0),
        _ => return None,
    })
}

pub fn attr(word: &str) -> Option<Attr> {
    Some(match word {
        "replica" | "replicas" | "instances" | "copies" | "copy" | "pods" | "pod" => Attr::Replicas,
        "cpu" | "cpus" | "core" | "cores" | "processor" | "compute" | "vcpu" | "vcpus" => Attr::Cpu,
        "memory" | "mem" | "ram" => Attr::Memory,
        "disk" | "storage" | "volume" | "space" | "pvc" | "disks" | "volumes" => Attr::Storage,
        "image" | "tag" | "version" => Attr::Image,
        "domain" | "host" | "hostname" => Attr::Domain,
        _ => return None,
    })
}

pub fn side(word: &str) -> Option<Side> {
    Some(match word {
        "limit" | "limits" | "max" | "maximum" | "cap" | "ceiling" => Side::Limit,
        "request" | "requests" | "reservation" | "reserved" | "guaranteed" | "minimum" | "min" => {
            Side::Request
        }
        _ => return None,
    })
}

/// Words that join clauses.
pub fn is_separator(word: &str) -> bool {
    matches!(word, "," | ";" | "and" | "&" | "then" | "also" | "plus")
}

/// Words that carry no meaning of their own here.
pub fn is_filler(word: &str) -> bool {
    matches!(
        word,
        "the"
            | "a"
            | "an"
            | "to"
            | "of"
            | "for"
            | "on"
            | "in"
            | "at"
            | "by"
            | "with"
            | "from"
            | "into"
            | "this"
            | "that"
            | "these"
            | "those"
            | "be"
            | "is"
            | "every"
            | "are"
            | "so"
            | "just"
            | "too"
            | "both"
            | "each"
            | "up"
            | "down"
            | "please"
            | "pls"
            | "plz"
            | "now"
            | "asap"
            | "can"
            | "could"
            | "would"
            | "will"
            | "you"
            | "i"
            | "i'd"
            | "id"
            | "like"
            | "want"
            | "we"
            | "let's"
            | "lets"
            | "let"
            | "us"
            | "our"
            | "my"
            | "should"
            | "have"
            | "has"
            | "get"
            | "gets"
            | "got"
            | "bit"
            | "little"
            | "component"
            | "components"
            | "service"
            | "services"
            | "deployment"
            | "deployments"
            | "container"
            | "containers"
            | "statefulset"
            | "thanks"
            | "thank"
            | "kindly"
            | "quickly"
            | "right"
            | "away"
            | "immediately"
            | "total"
            | "overall"
            | "per"
            | "count"
            | "number"
            | "amount"
            | "size"
            | "new"
            | "value"
            | "env"
            | "var"
            | "variable"
            | "variables"
            | "environment"
            | "vars"
            | "called"
            | "named"
            | "again"
            | "as"
            | "well"
            | "over"
            | "there"
            | "here"
            | "currently"
            | "instead"
            | "back"
            | "go"
            | "do"
            | "please,"
            | "hey"
            | "ok"
            | "okay"
            | "which"
            | "mode"
            | "server"
            | "servers"
            | "pool"
            | "tier"
            | "layer"
            | "rollout"
            | "only"
            | "exactly"
    )
}

/// Words that make an amount relative: "2 more replicas", "500m extra cpu".
pub fn is_more(word: &str) -> bool {
    matches!(word, "more" | "extra" | "additional" | "another")
}

/// Words that make an amount relative downward: "1 fewer replica", "512Mi less memory".
pub fn is_less(word: &str) -> bool {
    matches!(word, "fewer" | "less")
}

/// Words that mark a value as secret ("add secret API_KEY=…").
pub fn is_secret(word: &str) -> bool {
    matches!(word, "secret" | "secretly" | "sensitive" | "private")
}

/// Levenshtein distance, for spotting a misspelt component ("captrue").
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = here;
        }
    }
    row[b.len()]
}

/// Whether `typed` is a plausible misspelling of `name`: a transposition, or an edit distance of
/// one (two for names of seven letters or more).
pub fn is_typo_of(typed: &str, name: &str) -> bool {
    if typed == name || typed.len() < 3 {
        return false;
    }
    let allowed = if name.len() >= 7 { 2 } else { 1 };
    let transposed = typed.len() == name.len() && {
        let (a, b): (Vec<char>, Vec<char>) = (typed.chars().collect(), name.chars().collect());
        let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
        diff.len() == 2
            && diff[1] == diff[0] + 1
            && a[diff[0]] == b[diff[1]]
            && a[diff[1]] == b[diff[0]]
    };
    transposed || distance(typed, name) <= allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos() {
        assert!(is_typo_of("captrue", "capture"));
        assert!(is_typo_of("wroker", "worker"));
        assert!(is_typo_of("clikhouse", "clickhouse"));
        assert!(is_typo_of("redsi", "redis"));
        assert!(!is_typo_of("web", "web"));
        assert!(!is_typo_of("pg", "pq"));
        assert!(!is_typo_of("kafka", "capture"));
    }
}
