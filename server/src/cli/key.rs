//! `berth key rotate`: re-seals every revision under a new key, all or nothing. With a key file,
//! the new key is written beside it first (`<key>.new`, mode 0600), the database re-sealed, then
//! the files swapped (the old key kept as `<key>.old`). With `BERTH_SECRET_KEY`, the new key is
//! printed once, for the operator to put in its place.

use super::{Database, with_suffix};
use crate::store::{Sealer, seal::write_private};

/// `berth key ...`
#[derive(Debug, clap::Args)]
pub struct KeyArgs {
    /// The database.
    #[command(flatten)]
    pub db: Database,
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

/// Runs a key command, returning what to print on stdout.
pub async fn run(args: KeyArgs) -> Result<String, String> {
    let KeyCommand::Rotate = args.command;
    let key_file = args.db.key_file();
    let env_key = args.db.env_key();
    let store = args.db.open().await?;
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
