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

/// The TLS modes: `disable` is plain, `require` encrypts, `verify-full` refuses a server
/// whose certificate it cannot check (here against the system's roots, which do not hold
/// the test server's certificate, or a file with none).
#[tokio::test]
async fn tls_modes_do_what_they_say() {
    use switchboard_store::postgres::PgTls;
    let Ok(url) = std::env::var("SWITCHBOARD_TEST_POSTGRES_URL") else {
        eprintln!("skipped: SWITCHBOARD_TEST_POSTGRES_URL is not set");
        return;
    };
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let ssl: String = client.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    if ssl != "on" {
        eprintln!("skipped: the PostgreSQL server does not offer TLS (ssl = {ssl})");
        return;
    }
    let name = format!("sbtls_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let _schema = Schema { url: url.clone(), name: name.clone() };
    let open = |tls: PgTls| {
        let mut opts = PgOptions::new(url.clone());
        opts.schema = Some(name.clone());
        opts.pool_size = 1;
        opts.tls = tls;
        PgStore::connect(opts)
    };
    assert!(!open(PgTls::Disable).await.unwrap().encrypted().await.unwrap());
    assert!(open(PgTls::Require).await.unwrap().encrypted().await.unwrap());
    // A self-signed test server certificate is not among the system's roots.
    assert!(open(PgTls::VerifyFull { ca_file: None }).await.is_err());
    let empty = tempfile::NamedTempFile::new().unwrap();
    let err = open(PgTls::VerifyFull { ca_file: Some(empty.path().to_owned()) }).await.err().unwrap();
    assert!(err.to_string().contains("holds no certificate"), "{err}");
}
