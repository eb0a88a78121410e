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
