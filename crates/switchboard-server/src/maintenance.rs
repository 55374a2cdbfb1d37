//! `backup`, `restore` and `port`: the operator's commands that copy a whole installation.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::datadir::{self, Access};

/// The database file's name inside a backup directory (as inside a data directory).
const DATABASE_FILE: &str = "switchboard.db";

fn bar(len: u64, unit: &str) -> ProgressBar {
    // Drawn on standard error when it is a terminal, hidden otherwise.
    let bar = ProgressBar::new(len);
    let template = format!("{{msg:>16}} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{eta}} left)");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

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
    Ok(())
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
