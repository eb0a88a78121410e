//! The `berth` binary: parses the command line and hands over to the library.

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Berth: deploy and run multi-service app stacks on Kubernetes.
#[derive(Parser)]
#[command(name = "berth", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: berth::Config,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web console and the REST API (the default).
    Serve(Box<berth::Config>),
    /// Render or check Sealos-format templates.
    #[command(subcommand)]
    Template(berth::cli::TemplateCommand),
    /// Create, list and revoke API tokens.
    Token(berth::cli::token::TokenArgs),
    /// Rotate the key that seals what rollbacks need.
    Key(berth::cli::key::KeyArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Template(command)) = cli.command {
        return match berth::cli::run(command) {
            Ok(out) => {
                for warning in &out.warnings {
                    eprintln!("warning: {warning}");
                }
                print!("{}", out.stdout);
                Ok(())
            }
            Err(failure) => {
                for warning in &failure.warnings {
                    eprintln!("warning: {warning}");
                }
                eprintln!("error: {}", failure.message);
                std::process::exit(1)
            }
        };
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if matches!(
        cli.command,
        Some(Command::Serve(_) | Command::Template(_)) | None
    ) {
        release_freed_memory();
    }
    // Rendering a page walks deeply nested view types; a debug build needs more than tokio's
    // default 2 MiB of stack for the instance page.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(16 << 20)
        .build()?;
    match cli.command {
        Some(Command::Serve(config)) => runtime.block_on(serve(*config)),
        Some(Command::Key(args)) => finish(runtime.block_on(berth::cli::key::run(args))),
        Some(Command::Token(args)) => finish(runtime.block_on(berth::cli::token::run(args))),
        Some(Command::Template(_)) | None => runtime.block_on(serve(cli.serve)),
    }
}

/// glibc's allocator keeps what was freed for reuse, so after instances are deleted (and their
/// cached objects with them) the process would stay at its peak size. Every 10 s a thread hands
/// the free pages back to the system (`end2end/bench/scale.py` measures it). Threads share two
/// of glibc's arenas rather than up to eight per core, each of which would keep its own free
/// pages.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of the allocator, before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    std::thread::spawn(|| {
        loop {
            std::thread::sleep(std::time::Duration::from_secs(10));
            // SAFETY: malloc_trim takes no pointers: it walks the allocator's own free lists,
            // under the allocator's own locks.
            unsafe {
                libc::malloc_trim(0);
            }
        }
    });
}

/// Prints what a command produced, or its error on stderr with exit status 1.
fn finish(out: Result<String, String>) -> anyhow::Result<()> {
    match out {
        Ok(text) => {
            print!("{text}");
            Ok(())
        }
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(1)
        }
    }
}

async fn serve(config: berth::Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.addr))?;
    berth::serve(config, listener, berth::shutdown_signal()).await
}
