//! The command line besides `serve`: `berth template render` and `berth template check` (the
//! template engine, for scripts and CI), and `berth token` ([`token`]). Output goes to stdout;
//! errors go to stderr with a non-zero exit.

pub mod key;
pub mod token;

use std::path::PathBuf;

use crate::{
    store::Store,
    template::{RenderRequest, Template, TemplateError, validate},
};

/// The database a command works on (`--db`, `BERTH_DB`), with its key file beside it.
#[derive(Debug, clap::Args)]
pub struct Database {
    /// Path of Berth's database.
    #[arg(
        long = "db",
        env = "BERTH_DB",
        default_value = "./berth.db",
        global = true
    )]
    pub path: PathBuf,
}

impl Database {
    /// `<db>.key`, where the sealing key lives unless `BERTH_SECRET_KEY` is set.
    pub fn key_file(&self) -> PathBuf {
        with_suffix(&self.path, ".key")
    }

    /// `BERTH_SECRET_KEY`, when set.
    pub fn env_key(&self) -> Option<String> {
        std::env::var("BERTH_SECRET_KEY")
            .ok()
            .filter(|k| !k.is_empty())
    }

    /// Opens the database with its key (see `Store::open_with_key`).
    pub async fn open(&self) -> Result<Store, String> {
        Store::open_with_key(&self.path, self.env_key().as_deref(), &self.key_file())
            .await
            .map_err(|e| e.to_string())
    }
}

/// `path` with `suffix` appended to its file name.
pub fn with_suffix(path: &std::path::Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// `berth template ...`
#[derive(Debug, clap::Subcommand)]
pub enum TemplateCommand {
    /// Render a template and print its objects as multi-document YAML, like `helm template`.
    Render {
        /// The template file.
        file: PathBuf,
        /// An input value, `name=value` (repeatable).
        #[arg(long = "input", value_parser = key_value)]
        inputs: Vec<(String, String)>,
        /// A platform value such as `SEALOS_NAMESPACE=ns-demo` (repeatable).
        #[arg(long = "platform-value", value_parser = key_value)]
        platform: Vec<(String, String)>,
        /// The instance name (replaces `defaults.app_name`).
        #[arg(long)]
        name: Option<String>,
        /// Seed for `random()`, for reproducible output.
        #[arg(long)]
        seed: Option<u64>,
        /// Refuse any expression that fails or is undefined, instead of rendering it as Sealos
        /// does ('' in resources, `undefined` in defaults) with a warning.
        #[arg(long)]
        strict: bool,
    },
    /// Validate a template (rendering it with its defaults) and print the inputs it takes.
    Check {
        /// The template file.
        file: PathBuf,
        /// Refuse any expression that fails or is undefined (see `render --strict`).
        #[arg(long)]
        strict: bool,
    },
}

/// What a template command prints: `stdout`, and warnings for stderr.
#[derive(Debug, Default)]
pub struct Output {
    /// The YAML or the report.
    pub stdout: String,
    /// One line per expression rendered leniently, each naming the file and line.
    pub warnings: Vec<String>,
}

/// Why a template command failed, with the warnings of the render that led there (an
/// expression rendered as `''` is often why an object is then invalid).
#[derive(Debug, Default)]
pub struct Failure {
    /// The error, naming the file and line.
    pub message: String,
    /// As in [`Output::warnings`].
    pub warnings: Vec<String>,
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure {
            message,
            warnings: Vec::new(),
        }
    }
}

fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected name=value, got {s:?}")),
    }
}

/// Runs a template command, returning what to print.
pub fn run(command: TemplateCommand) -> Result<Output, Failure> {
    match command {
        TemplateCommand::Render {
            file,
            inputs,
            platform,
            name,
            seed,
            strict,
        } => {
            let template = load(&file)?;
            let request = RenderRequest {
                inputs: inputs.into_iter().collect(),
                platform: platform.into_iter().collect(),
                app_name: name,
                seed,
                strict,
                ..Default::default()
            };
            let rendered = template.render(&request).map_err(|e| located(&file, e))?;
            let warned = warnings(&file, &rendered.warnings);
            let fail = |e| Failure {
                message: located(&file, e),
                warnings: warned.clone(),
            };
            let mut out = String::new();
            for obj in &rendered.objects {
                validate::check_object(obj).map_err(fail)?;
                out.push_str("---\n");
                out.push_str(&serde_saphyr::to_string(&obj.object).map_err(|e| e.to_string())?);
            }
            Ok(Output {
                stdout: out,
                warnings: warned,
            })
        }
        TemplateCommand::Check { file, strict } => {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let (template, rendered) =
                crate::template::check::check(&text, strict).map_err(|f| Failure {
                    warnings: warnings(&file, &f.warnings),
                    message: located(&file, f.error),
                })?;
            let warned = warnings(&file, &rendered.warnings);
            let mut out = format!(
                "{}: ok ({}, {} objects with default inputs)\n",
                file.display(),
                template.name,
                rendered.objects.len()
            );
            if template.inputs.is_empty() {
                out.push_str("inputs: none\n");
            } else {
                out.push_str("inputs:\n");
                for i in &template.inputs {
                    let mut line = format!("  {} ({}", i.name, i.kind.as_str());
                    if i.required {
                        line.push_str(", required");
                    }
                    if !i.default.is_empty() {
                        line.push_str(&format!(", default {:?}", i.default));
                    }
                    if !i.options.is_empty() {
                        line.push_str(&format!(", one of {}", i.options.join("|")));
                    }
                    if let Some(c) = &i.condition {
                        line.push_str(&format!(", shown if {c}"));
                    }
                    line.push(')');
                    if !i.description.is_empty() {
                        line.push_str(&format!(": {}", i.description));
                    }
                    out.push_str(&line);
                    out.push('\n');
                }
            }
            Ok(Output {
                stdout: out,
                warnings: warned,
            })
        }
    }
}

fn warnings(file: &std::path::Path, warnings: &[app::model::TemplateWarning]) -> Vec<String> {
    warnings
        .iter()
        .map(|w| format!("{}: {w}", file.display()))
        .collect()
}

fn load(file: &PathBuf) -> Result<Template, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    Template::parse(&text).map_err(|e| located(file, e))
}

fn located(file: &std::path::Path, e: TemplateError) -> String {
    format!("{}: {e}", file.display())
}
