//! `${{ if(e) }}`, `${{ elif(e) }}`, `${{ else() }}` and `${{ endif() }}`: line directives applied
//! to the raw text before any YAML parsing. They nest; a directive must stand alone on its line.
//! Conditions inside a branch that is not taken are never evaluated.

use std::sync::LazyLock;

use regex::Regex;

use app::model::TemplateWarning;

use super::{
    TemplateError,
    expr::{self, Evaluator},
};

/// A line that survived the directives, with the 1-based line of the template it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLine<'a> {
    /// Line number in the template file.
    pub line: usize,
    /// The line's text, without its newline.
    pub text: &'a str,
}

static DIRECTIVE: LazyLock<Regex> =
    LazyLock::new(|| super::pattern(r"^\s*\$\{\{\s*(if|elif|else|endif)\((.*)\)\s*\}\}\s*$"));

struct Frame {
    /// Line of the opening `if`, for "unclosed" errors.
    opened_at: usize,
    /// Whether the enclosing block is emitting lines.
    parent_active: bool,
    /// Whether the current branch emits lines.
    active: bool,
    /// Whether an earlier branch of this block was taken.
    taken: bool,
    /// Whether `else()` was seen (nothing may follow it but `endif()`).
    in_else: bool,
}

/// Applies the directives in `body` (whose first line is `first_line` of the file).
///
/// With `lenient` (Sealos-compatible rendering), a condition that throws counts as false, as it
/// does in Sealos, and is reported there as a warning; without it, it is an error. A condition
/// that exceeds the sandbox's budget is an error either way.
pub fn apply<'a>(
    body: &'a str,
    first_line: usize,
    eval: &mut Evaluator,
    mut lenient: Option<&mut Vec<TemplateWarning>>,
) -> Result<Vec<SourceLine<'a>>, TemplateError> {
    let mut out = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    for (i, text) in body.lines().enumerate() {
        let line = first_line + i;
        let active = stack.last().is_none_or(|f| f.active);
        // Most lines hold no expression at all; only those can be directives.
        let directive = if text.contains("${{") {
            DIRECTIVE.captures(text)
        } else {
            None
        };
        let Some(caps) = directive else {
            if active {
                out.push(SourceLine { line, text });
            }
            continue;
        };
        let arg = caps[2].trim();
        let mut condition = |arg: &str| -> Result<bool, TemplateError> {
            if arg.is_empty() {
                return Err(TemplateError::Directive {
                    line,
                    message: "the condition is empty".into(),
                });
            }
            match (eval.truthy(arg), lenient.as_deref_mut()) {
                (Ok(taken), _) => Ok(taken),
                (Err(message), Some(warnings)) if !expr::is_budget_error(&message) => {
                    warnings.push(TemplateWarning {
                        line,
                        expr: arg.to_string(),
                        message: format!("failed: {}", expr::first_line(&message)),
                        rendered_as: "false".into(),
                    });
                    Ok(false)
                }
                (Err(message), _) => Err(TemplateError::Expression {
                    line,
                    expr: arg.to_string(),
                    message,
                }),
            }
        };
        match &caps[1] {
            "if" => {
                let taken = active && condition(arg)?;
                stack.push(Frame {
                    opened_at: line,
                    parent_active: active,
                    active: taken,
                    taken,
                    in_else: false,
                });
            }
            "elif" => {
                let frame = stack.last_mut().ok_or_else(|| unmatched(line, "elif()"))?;
                if frame.in_else {
                    return Err(TemplateError::Directive {
                        line,
                        message: "elif() after else(); expected endif()".into(),
                    });
                }
                let now = frame.parent_active && !frame.taken && condition(arg)?;
                frame.active = now;
                frame.taken |= now;
            }
            "else" => {
                let frame = stack.last_mut().ok_or_else(|| unmatched(line, "else()"))?;
                if frame.in_else {
                    return Err(TemplateError::Directive {
                        line,
                        message: "a second else(); expected endif()".into(),
                    });
                }
                if !arg.is_empty() {
                    return Err(TemplateError::Directive {
                        line,
                        message: "else() takes no condition; use elif()".into(),
                    });
                }
                frame.active = frame.parent_active && !frame.taken;
                frame.taken = true;
                frame.in_else = true;
            }
            _ => {
                stack.pop().ok_or_else(|| unmatched(line, "endif()"))?;
            }
        }
    }
    if let Some(open) = stack.last() {
        return Err(TemplateError::Directive {
            line: open.opened_at,
            message: "if() is never closed; expected endif()".into(),
        });
    }
    Ok(out)
}

fn unmatched(line: usize, what: &str) -> TemplateError {
    TemplateError::Directive {
        line,
        message: format!("{what} without a matching if()"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(body: &str, inputs: serde_json::Value) -> Result<Vec<(usize, String)>, TemplateError> {
        let mut e = Evaluator::new().unwrap();
        e.set_global("inputs", &inputs).unwrap();
        apply(body, 10, &mut e, None).map(|v| {
            v.into_iter()
                .map(|l| (l.line, l.text.to_string()))
                .collect()
        })
    }

    fn texts(v: Vec<(usize, String)>) -> Vec<String> {
        v.into_iter().map(|(_, t)| t).collect()
    }

    #[test]
    fn if_else_keeps_the_true_branch_and_line_numbers() {
        let body = "a\n${{ if(inputs.x === 'true') }}\nyes\n${{ else() }}\nno\n${{ endif() }}\nz\n";
        let on = run(body, json!({"x": "true"})).unwrap();
        assert_eq!(
            on,
            vec![(10, "a".into()), (12, "yes".into()), (16, "z".into())]
        );
        assert_eq!(
            texts(run(body, json!({"x": "false"})).unwrap()),
            ["a", "no", "z"]
        );
    }

    #[test]
    fn elif_chains_take_the_first_true_branch_only() {
        let body = "${{ if(inputs.n === '1') }}\none\n${{ elif(inputs.n === '2') }}\ntwo\n${{ elif(inputs.n !== '') }}\nmany\n${{ else() }}\nnone\n${{ endif() }}\n";
        assert_eq!(texts(run(body, json!({"n": "1"})).unwrap()), ["one"]);
        assert_eq!(texts(run(body, json!({"n": "2"})).unwrap()), ["two"]);
        assert_eq!(texts(run(body, json!({"n": "7"})).unwrap()), ["many"]);
        assert_eq!(texts(run(body, json!({"n": ""})).unwrap()), ["none"]);
    }

    #[test]
    fn nested_blocks_and_indented_directives() {
        let body = "env:\n  ${{ if(inputs.a === 'true') }}\n  - A\n    ${{ if(inputs.b === 'true') }}\n  - B\n    ${{ endif() }}\n  ${{ endif() }}\n  - C\n";
        assert_eq!(
            texts(run(body, json!({"a": "true", "b": "true"})).unwrap()),
            ["env:", "  - A", "  - B", "  - C"]
        );
        assert_eq!(
            texts(run(body, json!({"a": "true", "b": "false"})).unwrap()),
            ["env:", "  - A", "  - C"]
        );
        assert_eq!(
            texts(run(body, json!({"a": "false", "b": "true"})).unwrap()),
            ["env:", "  - C"]
        );
    }

    #[test]
    fn conditions_in_branches_not_taken_are_not_evaluated() {
        let body = "${{ if(false) }}\n${{ if(this_would_throw()) }}\nx\n${{ endif() }}\n${{ endif() }}\nok\n";
        assert_eq!(texts(run(body, json!({})).unwrap()), ["ok"]);
    }

    #[test]
    fn unbalanced_directives_name_their_line() {
        let err = run("a\n${{ endif() }}\n", json!({})).unwrap_err();
        assert_eq!(
            err,
            TemplateError::Directive {
                line: 11,
                message: "endif() without a matching if()".into()
            }
        );
        let err = run("${{ if(true) }}\na\n", json!({})).unwrap_err();
        assert_eq!(err.line(), Some(10));
        assert!(err.to_string().contains("never closed"));
        let err = run(
            "${{ if(true) }}\n${{ else() }}\n${{ elif(true) }}\n${{ endif() }}\n",
            json!({}),
        )
        .unwrap_err();
        assert_eq!(err.line(), Some(12));
        assert!(run("${{ else() }}\n", json!({})).is_err());
    }

    #[test]
    fn a_failing_condition_names_the_expression_and_line() {
        let err = run("x\n${{ if(inputs.a.b.c) }}\n${{ endif() }}\n", json!({})).unwrap_err();
        match err {
            TemplateError::Expression { line, expr, .. } => {
                assert_eq!(line, 11);
                assert_eq!(expr, "inputs.a.b.c");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_placeholder_that_is_not_alone_on_its_line_is_not_a_directive() {
        assert_eq!(
            texts(run("key: ${{ if(true) }} tail\n", json!({})).unwrap()),
            ["key: ${{ if(true) }} tail"]
        );
    }
}
