//! Errors of the template engine. Each carries the line of the template file it is about.

/// Something wrong with a template, its inputs, or what it renders to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The file's structure is wrong (no Template CR, bad YAML in it, a missing field).
    #[error("line {line}: {message}")]
    Parse {
        /// 1-based line in the template file.
        line: usize,
        /// What was expected.
        message: String,
    },
    /// A `${{ }}` expression failed or produced `undefined`.
    #[error("line {line}: expression `{expr}` failed: {message}")]
    Expression {
        /// 1-based line in the template file.
        line: usize,
        /// The expression as written.
        expr: String,
        /// The JavaScript error, or why the value is unusable.
        message: String,
    },
    /// An `if()/elif()/else()/endif()` directive is unbalanced or misplaced.
    #[error("line {line}: {message}")]
    Directive {
        /// 1-based line in the template file.
        line: usize,
        /// What was expected.
        message: String,
    },
    /// A rendered document is not valid YAML.
    #[error("line {line}: rendered YAML is invalid: {message}")]
    Yaml {
        /// 1-based line in the template file.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// An input value is missing or of the wrong type.
    #[error("input `{name}`: {message}")]
    Input {
        /// The input's name.
        name: String,
        /// What is wrong with it.
        message: String,
    },
    /// A rendered document is not a well-formed Kubernetes object.
    #[error("line {line}: {message}")]
    Object {
        /// 1-based line in the template file where the document starts.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
}

impl TemplateError {
    /// The template line the error is about, when there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            TemplateError::Parse { line, .. }
            | TemplateError::Expression { line, .. }
            | TemplateError::Directive { line, .. }
            | TemplateError::Yaml { line, .. }
            | TemplateError::Object { line, .. } => Some(*line),
            TemplateError::Input { .. } => None,
        }
    }
}
