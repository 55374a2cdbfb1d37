//! Every scenario at its quick size against an in-process server, so the harness cannot
//! rot. (Figures from debug builds mean nothing; docs/BENCHMARKS.md has release figures.)

use switchboard_bench::{Target, scenarios};
use switchboard_server::{App, Config};

async fn server() -> (Target, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config { data_dir: dir.path().to_path_buf(), ..Config::default() };
    config.service.argon2 = switchboard_service::Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 };
    config.service.rate_limit.per_second = 0.0;
    config.service.auth_limits.per_address.per_second = 0.0;
    // The idle scenario opens many sockets per user and session.
    config.service.max_connections_per_user = 0;
    config.service.max_connections_per_session = 0;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let app = App::new(&config).await.unwrap();
    tokio::spawn(switchboard_server::run(listener, app, std::future::pending()));
    (Target { addr, server_pid: Some(std::process::id()) }, dir)
}

fn metric(r: &switchboard_bench::report::ScenarioResult, key: &str) -> f64 {
    r.metrics[key].as_f64().unwrap_or_else(|| panic!("{key} missing in {}", r.metrics))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_runs_at_its_quick_size() {
    let (target, _dir) = server().await;

    let p = scenarios::idle::Params::quick();
    let r = scenarios::idle::run(&target, &p).await.unwrap();
    assert_eq!((metric(&r, "connected") as usize, metric(&r, "failed") as usize), (p.connections, 0));

    let r = scenarios::throughput::run(&target, &scenarios::throughput::Params::quick()).await.unwrap();
    assert!(metric(&r, "persisted") > 0.0 && metric(&r, "deliveries") > 0.0, "{}", r.metrics);

    let mut open_loop = scenarios::throughput::Params::quick();
    open_loop.rate = Some(200);
    let r = scenarios::throughput::run(&target, &open_loop).await.unwrap();
    assert!(metric(&r, "persisted") > 100.0, "{}", r.metrics);

    let p = scenarios::hot_group::Params::quick();
    let r = scenarios::hot_group::run(&target, &p).await.unwrap();
    assert_eq!(metric(&r, "deliveries") as usize, p.members * p.messages);

    let r = scenarios::catchup::run(&target, &scenarios::catchup::Params::quick()).await.unwrap();
    assert_eq!(metric(&r, "events_received") as usize, scenarios::catchup::Params::quick().events);

    let p = scenarios::history::Params::quick();
    let r = scenarios::history::run(&target, &p).await.unwrap();
    assert_eq!(r.metrics["page_latency"]["count"].as_u64(), Some(p.requests as u64));

    let p = scenarios::login_flood::Params::quick();
    let flood = scenarios::login_flood::run(&target, &p).await.unwrap();
    let (hashed, refused) = (metric(&flood, "hashed") as usize, metric(&flood, "refused") as usize);
    assert_eq!((hashed + refused, metric(&flood, "other") as usize), (p.attempts, 0));
    assert!(refused > 0, "the per-account limit of failed logins refuses most of {}", p.attempts);

    let p = scenarios::files::Params::quick();
    let files = scenarios::files::run(&target, &p).await.unwrap();
    assert!(metric(&files, "upload_mb_per_sec") > 0.0 && metric(&files, "download_mb_per_sec") > 0.0);
    assert_eq!(files.metrics["photos_until_ready"]["count"].as_u64(), Some(p.photos as u64));

    let p = scenarios::search::Params::quick();
    let search = scenarios::search::run(&target, &p).await.unwrap();
    assert_eq!(search.metrics["one_word"]["count"].as_u64(), Some(p.queries as u64));
    assert!(metric(&search, "mean_hits_one_word") > 0.0, "middling words are found: {}", search.metrics);

    let p = scenarios::reactions::Params::quick();
    let reactions = scenarios::reactions::run(&target, &p).await.unwrap();
    assert_eq!(metric(&reactions, "deliveries"), metric(&reactions, "expected_deliveries"), "{}", reactions.metrics);

    let report = switchboard_bench::report::Report {
        started_at_unix: 0,
        commit: "test".into(),
        machine: switchboard_bench::report::Machine::current(),
        size: "quick".into(),
        target: "in-process".into(),
        results: vec![r],
    };
    assert!(report.markdown().contains("| history |"));
}
