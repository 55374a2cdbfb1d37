//! The SQLite engine: a dedicated writer thread and a pool of readers.
//!
//! Writes are closures sent to the writer thread. It takes every job that is waiting (up to
//! `max_batch`), runs each inside its own SAVEPOINT within one transaction, commits once,
//! and only then answers each job: one fsync covers the whole group (group commit), a
//! failing job rolls back alone, and no caller hears "ok" before its data is durable.
//! Appends skip the savepoint (see `write_checked_first`).
//! Reads run on pooled connections in `spawn_blocking`; WAL lets them run beside the writer.
//!
//! A checkpointer thread copies the WAL back into the database file on its own connection,
//! at most once per `checkpoint_interval` while writes are coming in, so the writer never
//! pays for a checkpoint and a page written by many commits is copied back once. Should it
//! fall behind, SQLite's own checkpoint on the writer takes over at `WAL_FALLBACK_PAGES`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{mpsc, oneshot};

use crate::{StoreError, StoreResult};

/// How hard SQLite syncs a commit to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// fsync on every commit: durable across power loss. The default.
    Full,
    /// fsync at WAL checkpoints only: durable across process crashes, not power loss.
    Normal,
}

/// Options of the SQLite backend.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// The database file.
    pub path: PathBuf,
    /// Sync mode.
    pub synchronous: Synchronous,
    /// Most write jobs per group commit.
    pub max_batch: usize,
    /// Reader connections: kept open, and the most reads running at once.
    pub readers: usize,
    /// Capacity of the writer's queue; senders wait when it is full.
    pub queue: usize,
    /// Least time between two background checkpoints; zero leaves checkpoints to SQLite's
    /// automatic one on the writer (every 1,000 WAL pages).
    pub checkpoint_interval: Duration,
}

/// WAL pages at which the writer checkpoints by itself when the checkpointer lags (about
/// 80 MB with 4 KiB pages).
const WAL_FALLBACK_PAGES: u32 = 20_000;

impl SqliteOptions {
    /// Defaults for a database at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            synchronous: Synchronous::Full,
            max_batch: 512,
            readers: 4,
            queue: 8192,
            checkpoint_interval: Duration::from_millis(1000),
        }
    }
}

type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A write job: runs on the writer's connection, or is told that the transaction could not
/// start (`None`), and returns what to do once the commit's outcome is known, and whether it
/// left changes it could not undo (the whole group is then rolled back).
type Job = Box<dyn FnOnce(Option<&Connection>) -> (Completion, Aborted) + Send>;
type Aborted = bool;

/// The SQLite store. Cheap to clone; the writer thread stops when the last clone drops.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: mpsc::Sender<Job>,
    readers: Mutex<Vec<Connection>>,
    /// One permit per reader connection: reads beyond that wait rather than open more.
    read_permits: Arc<tokio::sync::Semaphore>,
    options: SqliteOptions,
}

fn open(options: &SqliteOptions) -> StoreResult<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(&options.path, flags)?;
    let sync = match options.synchronous {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    conn.execute_batch(&format!(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA foreign_keys=ON; \
         PRAGMA busy_timeout=5000; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16000;"
    ))?;
    // Every statement the store runs stays prepared.
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database, applies pending migrations and starts the
    /// writer thread.
    pub fn open(options: SqliteOptions) -> StoreResult<Self> {
        if let Some(dir) = options.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Backend(format!("create {}: {e}", dir.display())))?;
        }
        let mut conn = open(&options)?;
        super::schema::migrate(&mut conn)?;
        let (tx, rx) = mpsc::channel::<Job>(options.queue.max(1));
        let max_batch = options.max_batch.max(1);
        let wake = if options.checkpoint_interval.is_zero() {
            None
        } else {
            conn.pragma_update(None, "wal_autocheckpoint", WAL_FALLBACK_PAGES)?;
            let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
            let checkpointer = open(&options)?;
            let interval = options.checkpoint_interval;
            std::thread::Builder::new()
                .name("sqlite-checkpoint".into())
                .spawn(move || checkpoint_loop(checkpointer, woken, interval))
                .map_err(|e| StoreError::Backend(format!("spawn checkpointer: {e}")))?;
            Some(wake)
        };
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx, max_batch, wake))
            .map_err(|e| StoreError::Backend(format!("spawn writer: {e}")))?;
        let read_permits = Arc::new(tokio::sync::Semaphore::new(options.readers.max(1)));
        Ok(Self { inner: Arc::new(Inner { writer: tx, readers: Mutex::new(Vec::new()), read_permits, options }) })
    }

    /// Applies pending migrations to the database at `path` and returns the schema version.
    pub fn migrate(path: &Path) -> StoreResult<u32> {
        let mut conn = open(&SqliteOptions::new(path))?;
        super::schema::migrate(&mut conn)
    }

    /// Runs `f` in the next group commit and returns its result once committed. `f` runs
    /// inside its own savepoint: when it fails, whatever it changed is undone and the other
    /// writes of the group commit go ahead.
    pub(crate) async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.submit(f, true).await
    }

    /// Like [`write`](Self::write) without the savepoint, for hot paths that check
    /// everything before their first change. A savepoint copies every page the job touches
    /// into a sub-journal (about a tenth of the writer's time when appending messages). If
    /// `f` fails after changing rows anyway, the whole group commit is rolled back and
    /// every write in it fails: nothing half-done is ever committed.
    pub(crate) async fn write_checked_first<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.submit(f, false).await
    }

    async fn submit<T, F>(&self, f: F, savepoint: bool) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn: Option<&Connection>| {
            let Some(conn) = conn else {
                let done: Completion = Box::new(move |commit: Result<(), StoreError>| {
                    let _ = tx.send(commit.and_then(|()| Err(StoreError::Unavailable)));
                    drop(f);
                });
                return (done, false);
            };
            if !savepoint {
                let before = conn.total_changes();
                let result = f(conn);
                let aborted = result.is_err() && conn.total_changes() != before;
                return (answer(tx, result), aborted);
            }
            let result = match conn.prepare_cached("SAVEPOINT job").and_then(|mut st| st.execute([])) {
                Ok(_) => {
                    let r = f(conn);
                    let end = if r.is_ok() {
                        conn.prepare_cached("RELEASE job").and_then(|mut st| st.execute([])).map(|_| ())
                    } else {
                        conn.execute_batch("ROLLBACK TO job; RELEASE job")
                    };
                    match end {
                        Ok(()) => r,
                        Err(e) => Err(e.into()),
                    }
                }
                Err(e) => Err(e.into()),
            };
            (answer(tx, result), false)
        });
        self.inner.writer.send(job).await.map_err(|_| StoreError::Unavailable)?;
        rx.await.map_err(|_| StoreError::Unavailable)?
    }

    /// Runs `f` on a reader connection. At most `readers` reads run at once, each on a
    /// pooled connection: a burst of reads queues here instead of opening a connection
    /// (and parking a blocking thread with its own allocator arena) per read.
    pub(crate) async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        let permit = inner.read_permits.clone().acquire_owned().await.map_err(|_| StoreError::Unavailable)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let pooled = inner.readers.lock().map_err(|_| StoreError::Unavailable)?.pop();
            let conn = match pooled {
                Some(c) => c,
                None => open(&inner.options)?,
            };
            let r = f(&conn);
            let mut pool = inner.readers.lock().map_err(|_| StoreError::Unavailable)?;
            if pool.len() < inner.options.readers {
                pool.push(conn);
            }
            r
        })
        .await
        .map_err(|_| StoreError::Unavailable)?
    }
}

/// Answers a job once the commit's outcome is known: its own error if it failed, else its
/// value if the commit held.
fn answer<T: Send + 'static>(tx: oneshot::Sender<StoreResult<T>>, result: StoreResult<T>) -> Completion {
    Box::new(move |commit: Result<(), StoreError>| {
        let _ = tx.send(result.and_then(|v| commit.map(|()| v)));
    })
}

fn writer_loop(
    conn: Connection,
    mut rx: mpsc::Receiver<Job>,
    max_batch: usize,
    checkpointer: Option<std::sync::mpsc::SyncSender<()>>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(max_batch);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let size = batch.len();
        let started = Instant::now();
        let mut completions: Vec<Completion> = Vec::with_capacity(size);
        let commit = match conn.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => {
                let mut aborted = false;
                for job in batch.drain(..) {
                    if aborted {
                        completions.push(job(None).0);
                        continue;
                    }
                    let (done, a) = job(Some(&conn));
                    completions.push(done);
                    // A failure that left changes behind, or one after which SQLite ended
                    // the transaction itself, fails the whole group.
                    aborted = a || conn.is_autocommit();
                }
                if aborted {
                    Err(StoreError::Backend("a write failed midway; its group commit was rolled back".into()))
                } else {
                    conn.execute_batch("COMMIT").map_err(StoreError::from)
                }
            }
            Err(e) => {
                completions.extend(batch.drain(..).map(|job| job(None).0));
                Err(StoreError::from(e))
            }
        };
        if let Err(e) = &commit {
            tracing::error!(error = %e, size, "group commit failed");
            let _ = conn.execute_batch("ROLLBACK");
        }
        if let Some(wake) = &checkpointer {
            // Full means a wake-up is already pending.
            let _ = wake.try_send(());
        }
        metrics::histogram!("switchboard_store_commit_jobs").record(size as f64);
        let took = started.elapsed();
        metrics::histogram!("switchboard_store_commit_seconds").record(took.as_secs_f64());
        if took > Duration::from_secs(1) {
            tracing::warn!(ms = took.as_millis() as u64, size, "slow group commit (disk or CPU starved?)");
        }
        for done in completions {
            done(commit.clone());
        }
    }
}

/// Checkpoints after commits, at most once per `interval`; stops with the writer.
fn checkpoint_loop(conn: Connection, woken: std::sync::mpsc::Receiver<()>, interval: Duration) {
    while woken.recv().is_ok() {
        std::thread::sleep(interval);
        // Commits made while sleeping are covered by this checkpoint.
        while woken.try_recv().is_ok() {}
        let started = Instant::now();
        let done =
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)));
        match done {
            Ok((wal, copied)) => {
                metrics::histogram!("switchboard_store_checkpoint_seconds").record(started.elapsed().as_secs_f64());
                metrics::gauge!("switchboard_store_wal_pages").set(wal as f64);
                tracing::debug!(wal, copied, ms = started.elapsed().as_millis() as u64, "checkpoint");
            }
            Err(e) => tracing::warn!(error = %e, "checkpoint failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes about 1 MB in small commits and returns the database file's size after
    /// waiting up to `wait` for it to pass 1 MB (pages reach the file only by checkpoints).
    async fn file_size_after_writes(interval: Duration, wait: Duration) -> u64 {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut options = SqliteOptions::new(dir.path().join("db.sqlite"));
        options.checkpoint_interval = interval;
        let store = SqliteStore::open(options.clone()).expect("open");
        store.write(|c| Ok(c.execute_batch("CREATE TABLE filler (b BLOB NOT NULL)")?)).await.expect("create");
        for _ in 0..64 {
            store
                .write(|c| Ok(c.execute("INSERT INTO filler (b) VALUES (zeroblob(16384))", [])?))
                .await
                .expect("insert");
        }
        let deadline = Instant::now() + wait;
        loop {
            let size = std::fs::metadata(&options.path).expect("stat").len();
            if size > 1_000_000 || Instant::now() >= deadline {
                return size;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn rows(conn: &Connection) -> StoreResult<i64> {
        Ok(conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?)
    }

    #[tokio::test]
    async fn a_write_without_savepoint_that_fails_midway_rolls_back_its_whole_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(SqliteOptions::new(dir.path().join("db.sqlite"))).expect("open");
        store.write(|c| Ok(c.execute_batch("CREATE TABLE t (x INTEGER NOT NULL)")?)).await.expect("create");
        let group = |fail_midway: bool| {
            let store = store.clone();
            async move {
                // Holds the writer so that the three writes below share the next group commit.
                let (running, started) = oneshot::channel();
                let hold = tokio::spawn({
                    let store = store.clone();
                    async move {
                        store
                            .write(move |_| {
                                let _ = running.send(());
                                std::thread::sleep(Duration::from_millis(300));
                                Ok(())
                            })
                            .await
                    }
                });
                started.await.expect("the writer ran the holding job");
                let good = store.write_checked_first(|c| Ok(c.execute("INSERT INTO t (x) VALUES (1)", [])?));
                let refused = store.write_checked_first(|_| -> StoreResult<()> { Err(StoreError::NotFound("thing")) });
                let bad = store.write_checked_first(move |c| -> StoreResult<()> {
                    if fail_midway {
                        c.execute("INSERT INTO t (x) VALUES (2)", [])?;
                    }
                    Err(StoreError::FailedPrecondition("late".into()))
                });
                let (h, g, r, b) = tokio::join!(hold, good, refused, bad);
                h.expect("join").expect("hold");
                assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
                (g, b)
            }
        };
        // Failing before any change costs the others nothing.
        let (good, bad) = group(false).await;
        assert_eq!(good.expect("good write"), 1);
        assert!(matches!(bad, Err(StoreError::FailedPrecondition(_))), "{bad:?}");
        assert_eq!(store.read(rows).await.expect("count"), 1);
        // Failing after a change takes the whole group down, and nothing of it is kept.
        let (good, bad) = group(true).await;
        assert!(matches!(good, Err(StoreError::Backend(_))), "{good:?}");
        assert!(bad.is_err());
        assert_eq!(store.read(rows).await.expect("count"), 1);
        // The writer goes on afterwards.
        store.write_checked_first(|c| Ok(c.execute("INSERT INTO t (x) VALUES (3)", [])?)).await.expect("insert");
        assert_eq!(store.read(rows).await.expect("count"), 2);
    }

    #[tokio::test]
    async fn the_checkpointer_copies_the_log_into_the_database_file() {
        let size = file_size_after_writes(Duration::from_millis(50), Duration::from_secs(10)).await;
        assert!(size > 1_000_000, "database file is {size} bytes: nothing was checkpointed");
    }

    #[tokio::test]
    async fn without_the_checkpointer_small_logs_stay_in_the_wal() {
        // SQLite's own checkpoint waits for 1,000 pages (4 MB); 1 MB stays in the log.
        let size = file_size_after_writes(Duration::ZERO, Duration::from_millis(300)).await;
        assert!(size < 1_000_000, "database file is {size} bytes");
    }
}
