//! The template engine: Sealos-format templates in, Kubernetes objects out.
//!
//! It is pure: values in, values out, with no cluster and no database. The pipeline follows
//! `shared/reference/sealos-template-format.md`:
//!
//! 1. [`parse`]: split the file into the `Template` CR (typed) and the raw resource text;
//! 2. [`render`]: compute defaults (which may refer to each other), validate inputs, apply the
//!    `if()/elif()/else()/endif()` line directives ([`directives`]), substitute every `${{ }}`
//!    ([`expr`], a sandboxed JavaScript engine), parse the YAML documents and normalise them;
//! 3. [`validate`]: check that each rendered document is a well-formed Kubernetes object;
//! 4. [`sealos`]: what Sealos adds when it deploys (its `Instance` CR and ownership label).
//!
//! Every error names the file's line and what was expected ([`TemplateError`]).

pub mod check;
pub mod directives;
pub mod error;
pub mod expr;
pub mod parse;
pub mod render;
pub mod sealos;
pub mod validate;

pub use error::TemplateError;
pub use parse::{InputDef, Template};
pub use render::{RenderRequest, Rendered, RenderedObject};

/// One of the engine's own fixed patterns, compiled without the lazy DFA. The patterns are short
/// and most start with a literal, so a search skips to each candidate and the rest is short work.
/// The lazy DFA's caches grew to about 110 KB with the first render and stayed for the life of
/// the process (heaptrack, after deploying and deleting PostHog 5 times). Without them a PostHog
/// render took 4.36 ms rather than 4.09 (`cargo bench -p berth --bench render`; parsing, which
/// uses none of them, was 3% slower in the same run).
fn pattern(re: &str) -> regex::Regex {
    regex::RegexBuilder::new(re)
        .dfa_size_limit(0)
        .build()
        .expect("a valid pattern")
}
