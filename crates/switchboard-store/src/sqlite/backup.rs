//! Online backup and restore of the embedded database.
//!
//! A backup copies the database page by page with SQLite's online backup API while the
//! server keeps writing. The copy is consistent: its source connection holds one read
//! transaction for the whole copy, so every step reads the same snapshot (in WAL mode a
//! reader never blocks the writer, and SQLite does not restart a backup whose source
//! connection already has a transaction open). Everything committed before the backup
//! began is in the copy; nothing half-committed is.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::{StoreError, StoreResult};

/// Pages copied per step: small enough for frequent progress, large enough to be quick.
const PAGES_PER_STEP: std::ffi::c_int = 1024;

/// What a backup or a restore copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Schema version of the copy.
    pub schema_version: u32,
    /// Database pages copied.
    pub pages: u64,
    /// Size of the copy in bytes.
    pub bytes: u64,
    /// Rows of the main tables, for the operator to recognise the copy.
    pub users: u64,
    pub conversations: u64,
    pub messages: u64,
}

fn fail(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("{what}: {e}"))
}

/// Copies the live database at `source` to the new file `dest` (which must not exist),
/// calling `progress(done, total)` in pages as it goes. The copy is written beside `dest`
/// and renamed into place once complete and synced, so `dest` is never half a backup.
pub fn backup(source: &Path, dest: &Path, progress: &mut dyn FnMut(u64, u64)) -> StoreResult<Snapshot> {
    if !source.exists() {
        return Err(StoreError::FailedPrecondition(format!("no database at {}", source.display())));
    }
    if dest.exists() {
        return Err(StoreError::FailedPrecondition(format!("{} already exists", dest.display())));
    }
    let src = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| fail("open the database", e))?;
    src.busy_timeout(Duration::from_secs(10))?;
    let version = schema_version(&src)?;
    if version > super::SCHEMA_VERSION {
        return Err(StoreError::FailedPrecondition(format!(
            "the database is at schema version {version}, newer than this build's {}: back it up with a newer switchboard",
            super::SCHEMA_VERSION
        )));
    }
    // The read transaction every step shares (see the module comment).
    src.execute_batch("BEGIN DEFERRED; SELECT count(*) FROM sqlite_master;")?;
    let partial = partial_path(dest);
    let _ = std::fs::remove_file(&partial);
    let result = copy_into(&src, &partial, progress).and_then(|()| finish(&partial, dest));
    let _ = src.execute_batch("COMMIT");
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result?;
    inspect(dest)
}

/// Checks the backup `from` and puts it in place of the database at `dest`, which no
/// server may have open (the caller holds the data directory's lock). The old database's
/// WAL files go with it: they belong to the replaced file.
pub fn restore(from: &Path, dest: &Path) -> StoreResult<Snapshot> {
    let snapshot = inspect(from)?;
    if snapshot.schema_version > super::SCHEMA_VERSION {
        return Err(StoreError::FailedPrecondition(format!(
            "the backup is at schema version {}, newer than this build's {}: restore it with a newer switchboard",
            snapshot.schema_version,
            super::SCHEMA_VERSION
        )));
    }
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| fail("create the data directory", e))?;
    }
    let partial = partial_path(dest);
    std::fs::copy(from, &partial).map_err(|e| fail("copy the backup", e))?;
    std::fs::File::open(&partial).and_then(|f| f.sync_all()).map_err(|e| fail("sync the copy", e))?;
    for suffix in ["-wal", "-shm"] {
        let stale = sibling(dest, suffix);
        match std::fs::remove_file(&stale) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(fail(&format!("remove {}", stale.display()), e)),
        }
    }
    std::fs::rename(&partial, dest).map_err(|e| fail("move the copy into place", e))?;
    sync_dir(dest);
    Ok(snapshot)
}

/// Verifies the database file at `path` (SQLite's quick check) and counts what it holds.
pub fn inspect(path: &Path) -> StoreResult<Snapshot> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| fail(&format!("open {}", path.display()), e))?;
    let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(|e| {
        StoreError::FailedPrecondition(format!("{} is not a Switchboard database: {e}", path.display()))
    })?;
    if check != "ok" {
        return Err(StoreError::FailedPrecondition(format!("{} is damaged: {check}", path.display())));
    }
    let schema_version = schema_version(&conn)?;
    if schema_version == 0 {
        return Err(StoreError::FailedPrecondition(format!("{} is not a Switchboard database", path.display())));
    }
    let count = |table: &str| -> StoreResult<u64> {
        Ok(conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get::<_, i64>(0))? as u64)
    };
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let bytes = std::fs::metadata(path).map_err(|e| fail("stat the copy", e))?.len();
    Ok(Snapshot {
        schema_version,
        pages: pages as u64,
        bytes,
        users: count("users")?,
        conversations: count("conversations")?,
        messages: count("messages")?,
    })
}

fn schema_version(conn: &Connection) -> StoreResult<u32> {
    let has_table: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')",
        [],
        |r| r.get(0),
    )?;
    if !has_table {
        return Ok(0);
    }
    Ok(conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))?)
}

fn copy_into(src: &Connection, partial: &Path, progress: &mut dyn FnMut(u64, u64)) -> StoreResult<()> {
    let mut dst = Connection::open(partial).map_err(|e| fail("create the backup file", e))?;
    {
        let backup = Backup::new(src, &mut dst).map_err(|e| fail("start the backup", e))?;
        loop {
            match backup.step(PAGES_PER_STEP).map_err(|e| fail("copy pages", e))? {
                StepResult::Done => break,
                StepResult::More => {}
                // Busy or locked: another connection holds a lock the step needs.
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
            let p = backup.progress();
            progress((p.pagecount - p.remaining) as u64, p.pagecount as u64);
        }
        let p = backup.progress();
        progress(p.pagecount as u64, p.pagecount as u64);
    }
    // One self-contained file: no WAL beside it.
    dst.execute_batch("PRAGMA journal_mode=DELETE")?;
    dst.close().map_err(|(_, e)| fail("close the backup file", e))?;
    Ok(())
}

fn finish(partial: &Path, dest: &Path) -> StoreResult<()> {
    std::fs::File::open(partial).and_then(|f| f.sync_all()).map_err(|e| fail("sync the backup file", e))?;
    std::fs::rename(partial, dest).map_err(|e| fail("move the backup into place", e))?;
    sync_dir(dest);
    Ok(())
}

fn partial_path(dest: &Path) -> PathBuf {
    sibling(dest, ".partial")
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Makes a rename durable (best effort: not every platform can open a directory).
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backup taken while another connection keeps committing holds exactly the rows
    /// committed when it began, however many steps the copy takes.
    #[test]
    fn a_backup_during_writes_is_one_consistent_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("live.db");
        super::super::SqliteStore::migrate(&db).unwrap();
        let writer = Connection::open(&db).unwrap();
        writer.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE filler (n INTEGER, pad BLOB)").unwrap();
        // Several steps' worth of pages.
        for n in 0..12_000 {
            writer.execute("INSERT INTO filler VALUES (?1, zeroblob(1000))", [n]).unwrap();
        }
        let dest = dir.path().join("copy.db");
        let mut steps = 0;
        let mut extra = 12_000;
        let snapshot = backup(&db, &dest, &mut |done, total| {
            assert!(done <= total);
            steps += 1;
            // Commits made while the copy runs are not in it.
            writer.execute("INSERT INTO filler VALUES (?1, zeroblob(1000))", [extra]).unwrap();
            extra += 1;
        })
        .unwrap();
        assert!(steps > 2, "the copy took {steps} steps");
        assert_eq!(snapshot.schema_version, super::super::SCHEMA_VERSION);
        let copy = Connection::open(&dest).unwrap();
        let (rows, max): (i64, i64) =
            copy.query_row("SELECT count(*), max(n) FROM filler", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        assert_eq!((rows, max), (12_000, 11_999));
        // A second backup to the same place is refused rather than overwriting it.
        assert!(matches!(backup(&db, &dest, &mut |_, _| {}), Err(StoreError::FailedPrecondition(_))));

        // Restored over a database with a WAL, the copy is what the server will see.
        let target = dir.path().join("restored.db");
        std::fs::copy(&db, &target).unwrap();
        std::fs::write(sibling(&target, "-wal"), b"stale").unwrap();
        let restored = restore(&dest, &target).unwrap();
        assert_eq!(restored.schema_version, snapshot.schema_version);
        assert!(!sibling(&target, "-wal").exists());
        let rows: i64 =
            Connection::open(&target).unwrap().query_row("SELECT count(*) FROM filler", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 12_000);
        // Not a database: refused with a reason.
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, b"not sqlite at all, just some bytes that are long enough to be a header").unwrap();
        assert!(matches!(restore(&junk, &target), Err(StoreError::FailedPrecondition(_))));
    }
}
