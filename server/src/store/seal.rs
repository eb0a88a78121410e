//! Encryption at rest for the secret values history keeps so that a rollback can restore them.
//!
//! The key is 32 random bytes, from `BERTH_SECRET_KEY` (base64 or hex) or from a key file that
//! Berth creates with mode 0600 on first start. Sealed data is `nonce (12 bytes) || ciphertext`
//! under ChaCha20-Poly1305.

use std::path::Path;

use base64::Engine as _;
use chacha20poly1305::{
    ChaCha20Poly1305, Key, Nonce,
    aead::{Aead, KeyInit},
};
use rand::RngCore;

/// Seals and opens secret data. `Debug` never prints the key.
#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
    /// Derived from the key, for redaction markers (never the key itself).
    marker_key: [u8; 32],
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer { key: <hidden> }")
    }
}

impl Sealer {
    /// A sealer from a 32-byte key.
    pub fn new(key: [u8; 32]) -> Sealer {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key)
            .expect("HMAC takes a key of any length");
        mac.update(b"berth redaction markers");
        Sealer {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
            marker_key: mac.finalize().into_bytes().into(),
        }
    }

    /// The key redaction markers are made with: derived from the sealing key, so markers differ
    /// between installations and reveal nothing.
    pub fn marker_key(&self) -> [u8; 32] {
        self.marker_key
    }

    /// The key from `env_value` if given, else from `key_file`. A missing key file is created
    /// (mode 0600) only when `may_create`, that is, when nothing sealed with an earlier key could
    /// be lost; otherwise it is an error that says where the key should be. A key file that group
    /// or others may read is refused.
    pub fn load(
        env_value: Option<&str>,
        key_file: &Path,
        may_create: bool,
    ) -> anyhow::Result<Sealer> {
        if let Some(v) = env_value.filter(|v| !v.is_empty()) {
            return Ok(Sealer::new(decode_key(v).ok_or_else(|| {
                anyhow::anyhow!("BERTH_SECRET_KEY must be 32 bytes in base64 or hex")
            })?));
        }
        if key_file.exists() {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(key_file)?.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    anyhow::bail!(
                        "the key file {} may be read by group or others (mode {mode:o}); run `chmod 600 {}`",
                        key_file.display(),
                        key_file.display()
                    );
                }
            }
            let text = std::fs::read_to_string(key_file)?;
            return Ok(Sealer::new(decode_key(text.trim()).ok_or_else(|| {
                anyhow::anyhow!("{} does not hold a 32-byte key", key_file.display())
            })?));
        }
        if !may_create {
            anyhow::bail!(
                "the database holds sealed revisions, but their key is missing: {} does not exist and BERTH_SECRET_KEY is not set. Restore the key file (or set BERTH_SECRET_KEY to the key); Berth will not start with a new key, which could never open them",
                key_file.display()
            );
        }
        let (text, sealer) = Sealer::generate();
        write_private(key_file, &text)?;
        tracing::info!(path = %key_file.display(), "created a new secret-encryption key file");
        Ok(sealer)
    }

    /// A new random key, as stored in a key file (base64), and its sealer.
    pub fn generate() -> (String, Sealer) {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        (
            base64::engine::general_purpose::STANDARD.encode(key),
            Sealer::new(key),
        )
    }

    /// Encrypts `plain`.
    pub fn seal(&self, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let mut out = nonce.to_vec();
        out.extend(
            self.cipher
                .encrypt(Nonce::from_slice(&nonce), plain)
                .expect("encryption of in-memory data cannot fail"),
        );
        out
    }

    /// Decrypts what [`Sealer::seal`] produced with the same key.
    pub fn open(&self, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        if sealed.len() < 12 {
            anyhow::bail!("sealed data is too short");
        }
        let (nonce, body) = sealed.split_at(12);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), body)
            .map_err(|_| anyhow::anyhow!("cannot decrypt: wrong key or corrupted data"))
    }
}

fn decode_key(v: &str) -> Option<[u8; 32]> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(v)
        .ok()
        .filter(|b| b.len() == 32)
        .or_else(|| hex::decode(v).ok().filter(|b| b.len() == 32))?;
    bytes.try_into().ok()
}

/// Writes a new file only its owner may read (mode 0600); an existing file is an error.
#[cfg(unix)]
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

/// Writes a new file (no modes to set on this platform).
#[cfg(not(unix))]
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_another_key() {
        let a = Sealer::new([7; 32]);
        let sealed = a.seal(b"hunter2");
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(a.open(&sealed).unwrap(), b"hunter2");
        assert!(Sealer::new([8; 32]).open(&sealed).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_created_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("berth-seal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let file = dir.join("secret.key");
        let first = Sealer::load(None, &file, true).unwrap();
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let again = Sealer::load(None, &file, false).unwrap();
        assert_eq!(again.open(&first.seal(b"x")).unwrap(), b"x");
        assert!(format!("{first:?}").contains("<hidden>"));

        // Readable by others: refused, naming the fix.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = Sealer::load(None, &file, false).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");

        // Missing while something is sealed: refused, saying where the key should be.
        std::fs::remove_file(&file).unwrap();
        let err = Sealer::load(None, &file, false).unwrap_err().to_string();
        assert!(
            err.contains(&file.display().to_string()) && err.contains("sealed"),
            "{err}"
        );
        assert!(!file.exists(), "no new key was made");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
