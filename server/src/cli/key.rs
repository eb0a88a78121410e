//! `berth key rotate`: re-seals every revision under a new key, all or nothing. With a key file,
//! the new key is written beside it first (`<key>.new`, mode 0600), the database re-sealed, then
//! the files swapped (the old key kept as `<key>.old`). With `BERTH_SECRET_KEY`, the new key is
//! printed once, for the operator to put in its place.

use std::path::PathBuf;

use crate::store::{Sealer, Store, seal::write_private};

/// `berth key ...`
#[derive(Debug, clap::Args)]
pub struct KeyArgs {
    /// Path of Berth's database.
    #[arg(
        long = "db",
        env = "BERTH_DB",
        default_value = "./berth.db",
        global = true
    )]
    pub db_path: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: KeyCommand,
}

/// The key subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum KeyCommand {
    /// Re-seal every revision under a new key. Stop Berth first.
    Rotate,
}

fn with_suffix(path: &std::path::Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Runs a key command, returning what to print on stdout.
pub async fn run(args: KeyArgs) -> Result<String, String> {
    let KeyCommand::Rotate = args.command;
    let key_file = with_suffix(&args.db_path, ".key");
    let env_key = std::env::var("BERTH_SECRET_KEY")
        .ok()
        .filter(|k| !k.is_empty());
    let store = Store::open_with_key(&args.db_path, env_key.as_deref(), &key_file)
        .await
        .map_err(|e| e.to_string())?;
    let (text, new) = Sealer::generate();
    if env_key.is_some() {
        let n = store.reseal(&new).await.map_err(|e| e.to_string())?;
        return Ok(format!(
            "re-sealed {n} revisions; set BERTH_SECRET_KEY to the new key before starting Berth:\n{text}\n"
        ));
    }
    let next = with_suffix(&key_file, ".new");
    write_private(&next, &text).map_err(|e| format!("{}: {e}", next.display()))?;
    let n = store.reseal(&new).await.map_err(|e| e.to_string())?;
    let old = with_suffix(&key_file, ".old");
    std::fs::rename(&key_file, &old).map_err(|e| format!("{}: {e}", key_file.display()))?;
    std::fs::rename(&next, &key_file).map_err(|e| format!("{}: {e}", next.display()))?;
    Ok(format!(
        "re-sealed {n} revisions; the new key is in {}, the old one in {}\n",
        key_file.display(),
        old.display()
    ))
}
