//! Runs the store conformance suite against PostgreSQL, each test in a fresh schema.
//! Needs `SWITCHBOARD_TEST_POSTGRES_URL`; without it every test prints why and passes.

use std::sync::atomic::{AtomicU32, Ordering};

use switchboard_store::postgres::{PgOptions, PgStore};

/// Drops the test's schema when the test ends.
struct Schema {
    url: String,
    name: String,
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        // A fresh runtime: the test's own is shutting down.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.ok()?;
                tokio::spawn(conn);
                client.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).await.ok()
            })
        })
        .join();
    }
}

static NEXT: AtomicU32 = AtomicU32::new(0);

async fn postgres() -> Option<(PgStore, Schema)> {
    let Ok(url) = std::env::var("SWITCHBOARD_TEST_POSTGRES_URL") else {
        eprintln!("skipped: SWITCHBOARD_TEST_POSTGRES_URL is not set");
        return None;
    };
    let name = format!("sbtest_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let mut opts = PgOptions::new(url.clone());
    opts.schema = Some(name.clone());
    opts.pool_size = 8;
    let store = PgStore::connect(opts).await.expect("connect to the test database");
    Some((store, Schema { url, name }))
}

switchboard_store::store_conformance!(postgres());
