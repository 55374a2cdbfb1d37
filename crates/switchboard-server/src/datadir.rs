//! The data directory's lock: servers and admin commands share it; `restore` and `port`,
//! which must not run beside a server, take it alone.

use std::fs::File;
#[cfg(feature = "sqlite")]
use std::{fs::TryLockError, path::Path};

#[cfg(feature = "sqlite")]
use anyhow::{Context, bail};

/// Held for as long as the data directory is in use; released on drop (or when the
/// process ends, however it ends: it is an advisory lock on an open file).
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Whether others may use the data directory at the same time.
#[cfg(feature = "sqlite")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Servers and admin commands: any number at once.
    Shared,
    /// Restore and port: alone.
    Exclusive,
}

#[cfg(feature = "sqlite")]
const LOCK_FILE: &str = "switchboard.lock";

/// Takes the lock of `dir` (created if missing), failing at once, with what to do, when
/// someone holds it in a way that excludes `access`.
#[cfg(feature = "sqlite")]
pub fn lock(dir: &Path, access: Access) -> anyhow::Result<DataDirLock> {
    std::fs::create_dir_all(dir).with_context(|| format!("create data directory {}", dir.display()))?;
    let path = dir.join(LOCK_FILE);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("open {}", path.display()))?;
    let taken = match access {
        Access::Shared => file.try_lock_shared(),
        Access::Exclusive => file.try_lock(),
    };
    match taken {
        Ok(()) => Ok(DataDirLock { _file: file }),
        Err(TryLockError::WouldBlock) => match access {
            Access::Shared => bail!(
                "{} is being restored or ported by another switchboard command; wait for it to finish",
                dir.display()
            ),
            Access::Exclusive => {
                bail!("{} is in use by a running server or another switchboard command; stop it first", dir.display())
            }
        },
        Err(TryLockError::Error(e)) => Err(e).with_context(|| format!("lock {}", path.display())),
    }
}
