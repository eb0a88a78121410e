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
    if matches!(cli.command, Some(Command::Serve(_)) | None) {
        without_thread_caches();
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

/// glibc gives every thread a cache of freed chunks (up to 7 of each small size). Those chunks
/// still count as allocated, so each one pins its page and `malloc_trim` cannot hand the page
/// back: after instances were deleted, the worker threads' caches kept about 2 MB of scattered
/// pages resident (`end2end/bench/cycles.py`: 21.0 MB against 19.4 MB without them, idle 17 MB).
/// The cache can only be turned off before the allocator starts, through `GLIBC_TUNABLES`, so
/// the server starts itself again, once, with it set; the process id stays the same. A
/// `GLIBC_TUNABLES` that already sets `glibc.malloc.tcache_count` is left as it is.
fn without_thread_caches() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        const TUNABLE: &str = "glibc.malloc.tcache_count";
        let current = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
        if current.split(':').any(|t| t.starts_with(TUNABLE)) {
            tracing::info!(tunables = %current, "glibc's allocator settings");
            return;
        }
        let tunables = match current.as_str() {
            "" => format!("{TUNABLE}=0"),
            _ => format!("{current}:{TUNABLE}=0"),
        };
        // The binary's own path rather than /proc/self/exe, which would name the process "exe".
        // A binary replaced since it started (" (deleted)") is not started again.
        let Ok(binary) = std::env::current_exe() else {
            return;
        };
        if !binary.exists() {
            return;
        }
        let mut args = std::env::args_os();
        let mut again = std::process::Command::new(binary);
        if let Some(arg0) = args.next() {
            again.arg0(arg0);
        }
        // exec returns only if it failed; the server then runs with the caches.
        let error = again.args(args).env("GLIBC_TUNABLES", tunables).exec();
        tracing::warn!("could not restart without glibc's thread caches: {error}");
    }
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
