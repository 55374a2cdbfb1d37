//! `backup`, `restore` and `port`: the operator's commands that copy a whole installation.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::config::Config;
use crate::datadir::{self, Access};
use crate::progress::bar;

/// The database file's name inside a backup directory (as inside a data directory).
const DATABASE_FILE: &str = "switchboard.db";

fn embedded_only(config: &Config, what: &str) -> anyhow::Result<()> {
    if config.store != "sqlite" {
        bail!(
            "`switchboard {what}` is for the embedded store; in cluster mode back up PostgreSQL with pg_dump \
             (see docs/OPERATIONS.md)"
        );
    }
    Ok(())
}

/// `switchboard backup DEST`: a consistent copy of the (possibly running) embedded server.
pub async fn backup(config: &Config, dest: &Path) -> anyhow::Result<()> {
    embedded_only(config, "backup")?;
    let source = config.database_path();
    if !source.exists() {
        bail!("no database at {}: nothing to back up", source.display());
    }
    if dest.exists() && std::fs::read_dir(dest).with_context(|| format!("read {}", dest.display()))?.next().is_some() {
        bail!("{} is not empty: back up into a new directory", dest.display());
    }
    std::fs::create_dir_all(dest).with_context(|| format!("create {}", dest.display()))?;
    // Shared: the server may keep running; a restore may not start meanwhile.
    let _lock = datadir::lock(&config.data_dir, Access::Shared)?;
    let target = dest.join(DATABASE_FILE);
    let snapshot = tokio::task::spawn_blocking(move || {
        let bar = bar(0, "pages");
        bar.set_message("database");
        let r = switchboard_store::sqlite::backup::backup(&source, &target, &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        });
        bar.finish_and_clear();
        r
    })
    .await
    .context("backup task")??;
    println!(
        "backup written to {}: schema version {}, {} users, {} conversations, {} messages ({} bytes)",
        dest.display(),
        snapshot.schema_version,
        snapshot.users,
        snapshot.conversations,
        snapshot.messages,
        snapshot.bytes
    );
    // File bytes after the database: blobs are stored before the records naming them and
    // never change, so every blob the snapshot names is there to copy.
    if config.files.storage == "data-dir" {
        let (from, to) = (config.data_dir.join(BLOBS_DIR), dest.join(BLOBS_DIR));
        let (n, bytes) = tokio::task::spawn_blocking(move || copy_tree(&from, &to)).await.context("copy task")??;
        println!("{n} file blobs copied ({bytes} bytes)");
    }
    Ok(())
}

/// Where the data directory keeps file bytes (the blob store's `blobs/` under `files/`).
const BLOBS_DIR: &str = "files/blobs";

/// Copies every file under `from` to the same place under `to` (hard links where the
/// file system allows; files already there are kept). Returns files and bytes copied.
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<(u64, u64)> {
    let (mut n, mut bytes) = (0, 0);
    if !from.exists() {
        return Ok((0, 0));
    }
    let mut dirs = vec![from.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("read {}", dir.display()))? {
            let entry = entry?;
            let path = entry.path();
            let target = to.join(path.strip_prefix(from).unwrap_or(&path));
            if entry.file_type()?.is_dir() {
                dirs.push(path);
                continue;
            }
            if target.exists() {
                continue;
            }
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("create {}", parent.display()))?;
            }
            if std::fs::hard_link(&path, &target).is_err() {
                std::fs::copy(&path, &target).with_context(|| format!("copy {}", path.display()))?;
            }
            n += 1;
            bytes += entry.metadata()?.len();
        }
    }
    Ok((n, bytes))
}

/// `switchboard restore SRC`: puts a backup in place of the data directory's database.
pub async fn restore(config: &Config, from: &Path, force: bool) -> anyhow::Result<()> {
    embedded_only(config, "restore")?;
    let file: PathBuf = if from.is_dir() { from.join(DATABASE_FILE) } else { from.to_owned() };
    if !file.exists() {
        bail!("no backup at {}", file.display());
    }
    // Alone: no server may have the database open while it is replaced.
    let _lock = datadir::lock(&config.data_dir, Access::Exclusive)?;
    let dest = config.database_path();
    if dest.exists() && !force {
        let existing = switchboard_store::sqlite::backup::inspect(&dest)
            .map(|s| format!(" with {} users and {} messages", s.users, s.messages))
            .unwrap_or_default();
        bail!("{} already has a database{existing}: pass --force to replace it", config.data_dir.display());
    }
    let snapshot = tokio::task::spawn_blocking(move || switchboard_store::sqlite::backup::restore(&file, &dest))
        .await
        .context("restore task")??;
    println!(
        "restored into {}: schema version {}, {} users, {} conversations, {} messages",
        config.data_dir.display(),
        snapshot.schema_version,
        snapshot.users,
        snapshot.conversations,
        snapshot.messages
    );
    let blobs = if from.is_dir() { from.join(BLOBS_DIR) } else { PathBuf::new() };
    if config.files.storage == "data-dir" && blobs.exists() {
        let to = config.data_dir.join(BLOBS_DIR);
        let (n, bytes) = tokio::task::spawn_blocking(move || copy_tree(&blobs, &to)).await.context("copy task")??;
        println!("{n} file blobs restored ({bytes} bytes)");
    }
    Ok(())
}

/// `switchboard port --from DIR --to URL`: copies an embedded installation into an empty
/// PostgreSQL database and checks the copy.
#[cfg(feature = "postgres")]
pub async fn port(config: &Config, from: &Path, to: &str, schema: Option<&str>) -> anyhow::Result<()> {
    if !crate::serve::is_postgres(to) {
        bail!("--to must be a postgres:// URL, not {to:?}");
    }
    let database = from.join(DATABASE_FILE);
    if !database.exists() {
        bail!("no embedded database at {}", database.display());
    }
    // Alone: a message written while the port runs would be left behind.
    let _lock = datadir::lock(from, Access::Exclusive)?;
    // The port reads this build's schema; an older database is brought up to it first.
    switchboard_store::sqlite::SqliteStore::migrate(&database).context("migrate the embedded database")?;
    let mut options = crate::serve::pg_options(config, to);
    if let Some(schema) = schema {
        options.schema = Some(schema.to_owned()).filter(|s| !s.is_empty());
    }
    options.pool_size = 2;
    let bar = bar(0, "rows");
    let report = switchboard_store::port::port(&database, options, &mut |p| {
        bar.set_length(p.total);
        bar.set_position(p.done);
        bar.set_message(p.table.to_owned());
    })
    .await;
    bar.finish_and_clear();
    let report = report.context("port to PostgreSQL")?;
    for (table, rows) in &report.tables {
        println!("{table:>24}  {rows} rows");
    }
    println!(
        "ported {} rows; row counts of every table, {} conversation heads and {} user log heads verified",
        report.tables.values().sum::<u64>(),
        report.conversation_heads,
        report.user_heads
    );
    println!("now start the server with --store {}", crate::config::redact(to));
    Ok(())
}
