//! `switchboard-bench`: runs the benchmark scenarios against a server — one it starts
//! itself from the `switchboard` binary (the default) or one already running (`--addr`) —
//! and writes the results as JSON and Markdown.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use switchboard_bench::report::{Machine, Report};
use switchboard_bench::{Target, scenarios};

/// Switchboard benchmark harness.
#[derive(Debug, Parser)]
#[command(name = "switchboard-bench")]
struct Args {
    /// Benchmark a running server at HOST:PORT instead of starting one (its memory is then
    /// not measured).
    #[arg(long)]
    addr: Option<String>,
    /// The server binary to start (default: `switchboard` next to this binary).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Extra `KEY=VALUE` environment for the started server (e.g. SWITCHBOARD_SQLITE__SYNCHRONOUS=normal).
    #[arg(long = "server-env")]
    server_env: Vec<String>,
    /// Small sizes that finish in well under two minutes.
    #[arg(long)]
    quick: bool,
    /// Scenarios to run (default: all).
    #[arg(long = "scenario", value_enum)]
    scenarios: Vec<Scenario>,
    /// Throughput scenario in open-loop mode at this many messages per second in total.
    #[arg(long)]
    rate: Option<u64>,
    /// Override the hot-group size.
    #[arg(long)]
    members: Option<usize>,
    /// Override the idle-connection count.
    #[arg(long)]
    connections: Option<usize>,
    /// Override the history size.
    #[arg(long)]
    history_messages: Option<usize>,
    /// Write the JSON report here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the Markdown report here.
    #[arg(long)]
    markdown: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Idle,
    Throughput,
    HotGroup,
    CatchUp,
    History,
    LoginFlood,
    Files,
    Search,
    Reactions,
}

struct Spawned {
    child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

async fn spawn_server(args: &Args) -> anyhow::Result<(Target, Spawned)> {
    let bin = match &args.server_bin {
        Some(b) => b.clone(),
        None => std::env::current_exe()?.with_file_name("switchboard"),
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let dir = tempfile::Builder::new().prefix("switchboard-bench-").tempdir()?;
    let mut cmd = tokio::process::Command::new(&bin);
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.path())
        // Cheap password hashing and no rate or sign-in limits: set-up registers thousands
        // of users from one address; the idle scenario opens many sockets per session.
        .env("SWITCHBOARD_SERVICE__ARGON2__MEMORY_KIB", "64")
        .env("SWITCHBOARD_SERVICE__ARGON2__ITERATIONS", "1")
        .env("SWITCHBOARD_SERVICE__RATE_LIMIT__PER_SECOND", "0")
        .env("SWITCHBOARD_SERVICE__AUTH_LIMITS__PER_ADDRESS__PER_SECOND", "0")
        .env("SWITCHBOARD_SERVICE__MAX_CONNECTIONS_PER_USER", "0")
        .env("SWITCHBOARD_SERVICE__MAX_CONNECTIONS_PER_SESSION", "0")
        .env("SWITCHBOARD_SERVICE__MAX_MEMBERS", "1000000")
        .env("SWITCHBOARD_LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true);
    for kv in &args.server_env {
        let (k, v) = kv.split_once('=').context("--server-env takes KEY=VALUE")?;
        cmd.env(k, v);
    }
    let child = cmd.spawn().with_context(|| format!("start {}", bin.display()))?;
    let pid = child.id();
    let addr = format!("127.0.0.1:{port}");
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(&addr).await.is_ok() {
            return Ok((Target { addr, server_pid: pid }, Spawned { child, _dir: dir }));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the server did not start")
}

fn commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or_else(|| "unknown".into(), |o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter("warn").init();
    let args = Args::parse();
    let (target, server) = match &args.addr {
        Some(a) => (Target { addr: a.clone(), server_pid: None }, None),
        None => {
            let (t, s) = spawn_server(&args).await?;
            (t, Some(s))
        }
    };
    let all = [
        Scenario::Idle,
        Scenario::Throughput,
        Scenario::HotGroup,
        Scenario::CatchUp,
        Scenario::History,
        Scenario::LoginFlood,
        Scenario::Files,
        Scenario::Search,
        Scenario::Reactions,
    ];
    let chosen: Vec<Scenario> = if args.scenarios.is_empty() { all.to_vec() } else { args.scenarios.clone() };
    let mut report = Report {
        started_at_unix: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs(),
        commit: commit(),
        machine: Machine::current(),
        size: if args.quick { "quick".into() } else { "full".into() },
        target: if args.addr.is_some() {
            format!("server at {}", target.addr)
        } else {
            "embedded (SQLite) server started by the bench".into()
        },
        results: Vec::new(),
    };
    for s in chosen {
        eprintln!("running {s:?} ...");
        let r = match s {
            Scenario::Idle => {
                let mut p = if args.quick { scenarios::idle::Params::quick() } else { scenarios::idle::Params::full() };
                p.connections = args.connections.unwrap_or(p.connections);
                scenarios::idle::run(&target, &p).await?
            }
            Scenario::Throughput => {
                let mut p = if args.quick {
                    scenarios::throughput::Params::quick()
                } else {
                    scenarios::throughput::Params::full()
                };
                p.rate = args.rate;
                scenarios::throughput::run(&target, &p).await?
            }
            Scenario::HotGroup => {
                let mut p = if args.quick {
                    scenarios::hot_group::Params::quick()
                } else {
                    scenarios::hot_group::Params::full()
                };
                p.members = args.members.unwrap_or(p.members);
                scenarios::hot_group::run(&target, &p).await?
            }
            Scenario::CatchUp => {
                let p =
                    if args.quick { scenarios::catchup::Params::quick() } else { scenarios::catchup::Params::full() };
                scenarios::catchup::run(&target, &p).await?
            }
            Scenario::History => {
                let mut p =
                    if args.quick { scenarios::history::Params::quick() } else { scenarios::history::Params::full() };
                p.messages = args.history_messages.unwrap_or(p.messages);
                scenarios::history::run(&target, &p).await?
            }
            Scenario::LoginFlood => {
                let p = if args.quick {
                    scenarios::login_flood::Params::quick()
                } else {
                    scenarios::login_flood::Params::full()
                };
                scenarios::login_flood::run(&target, &p).await?
            }
            Scenario::Files => {
                let p = if args.quick { scenarios::files::Params::quick() } else { scenarios::files::Params::full() };
                scenarios::files::run(&target, &p).await?
            }
            Scenario::Search => {
                let p = if args.quick { scenarios::search::Params::quick() } else { scenarios::search::Params::full() };
                scenarios::search::run(&target, &p).await?
            }
            Scenario::Reactions => {
                let p = if args.quick {
                    scenarios::reactions::Params::quick()
                } else {
                    scenarios::reactions::Params::full()
                };
                scenarios::reactions::run(&target, &p).await?
            }
        };
        eprintln!("  {}", serde_json::to_string(&r.metrics)?);
        report.results.push(r);
    }
    let json = serde_json::to_string_pretty(&report)?;
    let md = report.markdown();
    match &args.json {
        Some(p) => std::fs::write(p, &json)?,
        None => println!("{json}"),
    }
    match &args.markdown {
        Some(p) => std::fs::write(p, &md)?,
        None => println!("\n{md}"),
    }
    if let Some(mut s) = server {
        let _ = s.child.kill().await;
    }
    Ok(())
}
