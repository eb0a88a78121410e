//! `berth token create|list|revoke`: API tokens, managed on the database directly (as the
//! admin of the machine Berth runs on). A new token is printed once; only its hash is kept.

use super::Database;
use crate::auth::{self, Role};

/// `berth token ...`
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// The database.
    #[command(flatten)]
    pub db: Database,
    /// What to do.
    #[command(subcommand)]
    pub command: TokenCommand,
}

/// The token subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Make a token and print it (once).
    Create {
        /// `viewer` (reads), `operator` (also deploys, changes, rolls back) or `admin` (also
        /// deletes and manages tokens).
        #[arg(long, value_parser = ["viewer", "operator", "admin"])]
        role: String,
        /// Who it is for; history records it as the actor.
        #[arg(long)]
        name: String,
    },
    /// List the tokens (never their secrets).
    List,
    /// Revoke a token by name; its sessions end too.
    Revoke {
        /// The token's name.
        name: String,
    },
}

/// Runs a token command, returning what to print on stdout.
pub async fn run(args: TokenArgs) -> Result<String, String> {
    let store = args.db.open().await?;
    match args.command {
        TokenCommand::Create { role, name } => {
            let role = Role::parse(&role).ok_or_else(|| format!("unknown role {role:?}"))?;
            let t = auth::create_token(&store, &name, role)
                .await
                .map_err(|e| e.to_string())?;
            Ok(format!("{}\n", t.token))
        }
        TokenCommand::List => {
            let mut out = String::from("NAME\tROLE\tCREATED\tREVOKED\n");
            for t in store.tokens().await.map_err(|e| e.to_string())? {
                let revoked = t.revoked_at.unwrap_or_else(|| "-".into());
                out.push_str(&format!(
                    "{}\t{}\t{}\t{revoked}\n",
                    t.name, t.role, t.created_at
                ));
            }
            Ok(out)
        }
        TokenCommand::Revoke { name } => {
            store.revoke_token(&name).await.map_err(|e| e.to_string())?;
            Ok(format!("revoked {name}\n"))
        }
    }
}
