//! The master key file `<data_dir>/master.key`: created once with mode 0600, refused when
//! other users of the machine could read it.

use std::io::Write as _;
use std::path::Path;

use zeroize::Zeroizing;

use super::master_key::{KeyOrigin, MasterKey, MasterKeyError};

/// Reads the key file, or creates it with a new random key when there is none.
pub(super) fn read_or_create(path: &Path) -> Result<MasterKey, MasterKeyError> {
    let file_error = |source| MasterKeyError::File {
        path: path.to_owned(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            check_private(path)?;
            return MasterKey::decode(&Zeroizing::new(text), &KeyOrigin::File(path.to_owned()));
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(file_error(error)),
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(file_error)?;
    }
    let key = MasterKey::generate()?;
    // Written whole to a private temporary file, then linked into place: a second process
    // starting at the same moment either wins the link or reads a complete file, never a
    // half-written one, and both end up with the same key.
    let temporary = path.with_extension(format!("key.{}.tmp", std::process::id()));
    let linked =
        write_private(&temporary, &key).and_then(|()| std::fs::hard_link(&temporary, path));
    let _ = std::fs::remove_file(&temporary);
    match linked {
        Ok(()) => {
            tracing::info!(path = %path.display(), "created a new master key file; back it up");
            Ok(key)
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => read_or_create(path),
        Err(error) => Err(file_error(error)),
    }
}

/// Creates `path` with mode 0600 (set at creation, before a byte is written) and writes the
/// key into it.
fn write_private(path: &Path, key: &MasterKey) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(key.to_base64().as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// Refuses a key file others can read or change (as ssh does with private keys).
fn check_private(path: &Path) -> Result<(), MasterKeyError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let metadata = std::fs::metadata(path).map_err(|source| MasterKeyError::File {
            path: path.to_owned(),
            source,
        })?;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(MasterKeyError::Exposed {
                path: path.to_owned(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::master_key::MASTER_KEY_FILE;

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().join("data");
        let (first, origin) = MasterKey::resolve(None, Some(""), &data_dir).expect("created");
        let path = data_dir.join(MASTER_KEY_FILE);
        assert_eq!(origin, KeyOrigin::File(path.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path)
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (second, _) = MasterKey::resolve(None, None, &data_dir).expect("read back");
        assert_eq!(*first.to_base64(), *second.to_base64());
        let files = std::fs::read_dir(&data_dir).expect("dir").count();
        assert_eq!(files, 1, "no temporary file left behind");
    }

    #[cfg(unix)]
    #[test]
    fn group_readable_key_file_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(MASTER_KEY_FILE);
        std::fs::write(&path, KEY).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let error = MasterKey::resolve(None, None, dir.path()).expect_err("exposed");
        assert!(error.to_string().contains("chmod 600"), "{error}");
    }

    #[test]
    fn malformed_key_file_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(MASTER_KEY_FILE);
        write_private(&path, &MasterKey::from_bytes([0; 32])).expect("write");
        std::fs::write(&path, "garbage").expect("overwrite");
        let error = MasterKey::resolve(None, None, dir.path()).expect_err("bad file");
        let message = error.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(!message.contains("garbage"), "{message}");
    }
}
