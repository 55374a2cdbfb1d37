//! The binary itself: admin subcommands, `--help`, SIGTERM drain. Also the child-process
//! harness the durability test uses.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use switchboard_client::proto as pb;
use switchboard_client::{Client, Transport};
use tokio::process::{Child, Command};

use crate::helpers::*;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn command(data_dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir")
        .arg(data_dir)
        .env("SWITCHBOARD_SERVICE__ARGON2__MEMORY_KIB", "64")
        .env("SWITCHBOARD_SERVICE__ARGON2__ITERATIONS", "1")
        .env("SWITCHBOARD_SERVICE__RATE_LIMIT__PER_SECOND", "0")
        .env("SWITCHBOARD_SERVICE__AUTH_LIMITS__PER_ADDRESS__PER_SECOND", "0")
        .env("SWITCHBOARD_LOG_LEVEL", "warn")
        .kill_on_drop(true);
    cmd
}

/// The server binary running as a child process.
pub struct Server {
    child: Child,
}

impl Server {
    pub async fn start(data_dir: &Path, port: u16) -> Self {
        Self::start_with(data_dir, port, &[]).await
    }

    /// Starts a node with extra environment (cluster settings).
    pub async fn start_with(data_dir: &Path, port: u16, env: &[(String, String)]) -> Self {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(data_dir.join("server.log")).unwrap();
        let child = command(data_dir)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(tokio::time::Instant::now() < deadline, "the server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child }
    }

    /// SIGKILL.
    pub async fn kill(&mut self) {
        self.child.kill().await.unwrap();
    }

    pub fn pid(&self) -> u32 {
        self.child.id().unwrap()
    }
}

pub async fn run(data_dir: &Path, args: &[&str], stdin: Option<&str>) -> (bool, String) {
    let mut cmd = command(data_dir);
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        use tokio::io::AsyncWriteExt;
        child.stdin.take().unwrap().write_all(input.as_bytes()).await.unwrap();
    }
    let out = child.wait_with_output().await.unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr))
}

#[tokio::test]
async fn help_documents_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = run(dir.path(), &["--help"], None).await;
    assert!(ok);
    for word in [
        "serve",
        "migrate",
        "user",
        "config",
        "search",
        "backup",
        "restore",
        "port",
        "--config",
        "--data-dir",
        "SWITCHBOARD_",
    ] {
        assert!(out.contains(word), "--help does not mention {word}:\n{out}");
    }
    // Every global option says its default and its variable.
    for env in
        ["SWITCHBOARD_CONFIG", "SWITCHBOARD_DATA_DIR", "SWITCHBOARD_LOG_FORMAT", "SWITCHBOARD_STORE", "SWITCHBOARD_BUS"]
    {
        assert!(out.contains(env), "--help does not name {env}:\n{out}");
    }
    for default in ["[default: switchboard-data]", "[default: sqlite]", "[default: local]", "[default: text]"] {
        assert!(out.contains(default), "--help does not show {default}:\n{out}");
    }
    let (ok, out) = run(dir.path(), &["serve", "--help"], None).await;
    assert!(ok && out.contains("[default: 0.0.0.0:8080]") && out.contains("SWITCHBOARD_LISTEN"), "{out}");
    let (ok, out) = run(dir.path(), &["user", "--help"], None).await;
    assert!(ok);
    for word in ["add", "list", "set-password", "disable"] {
        assert!(out.contains(word), "user --help does not mention {word}");
    }
}

#[tokio::test]
async fn accounts_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = run(dir.path(), &["migrate"], None).await;
    let version = format!("schema version {}", switchboard_store::sqlite::SCHEMA_VERSION);
    assert!(ok && out.contains(&version), "{out}");
    let (ok, out) = run(
        dir.path(),
        &["user", "add", "root", "--admin", "--display-name", "Root", "--password-stdin"],
        Some("first password\n"),
    )
    .await;
    assert!(ok, "{out}");
    let (ok, out) = run(dir.path(), &["user", "add", "Root", "--password-stdin"], Some("another password\n")).await;
    assert!(!ok && out.contains("already exists"), "{out}");
    let (ok, out) =
        run(dir.path(), &["user", "set-password", "root", "--password-stdin"], Some("second password\n")).await;
    assert!(ok, "{out}");
    // Never from the command line; without a terminal to prompt on, --password-stdin says how.
    let (ok, out) = run(dir.path(), &["user", "set-password", "root", "--password", "visible in ps"], None).await;
    assert!(!ok && out.contains("--password"), "{out}");
    let (ok, out) = run(dir.path(), &["user", "set-password", "root"], Some("third password\n")).await;
    assert!(!ok && out.contains("--password-stdin"), "{out}");
    let (ok, out) = run(dir.path(), &["user", "disable", "root"], None).await;
    assert!(ok, "{out}");
    let (ok, out) = run(dir.path(), &["user", "list"], None).await;
    assert!(ok && out.contains("root") && out.contains("admin,disabled"), "{out}");
    let (ok, _) = run(dir.path(), &["user", "disable", "root", "--enable"], None).await;
    assert!(ok);

    // The server sees the account the CLI made.
    let port = free_port();
    let _server = Server::start(dir.path(), port).await;
    let anon = Client::connect(&format!("127.0.0.1:{port}"), Transport::Http, None).await.unwrap();
    let login: pb::LoginResponse = anon
        .call(
            "AuthService/Login",
            &pb::LoginRequest { username: "root".into(), password: "second password".into(), device: None },
        )
        .await
        .unwrap();
    assert!(login.user.unwrap().admin);
}

/// `search status` and `search rebuild` beside a running server: the rebuild empties the
/// index and indexes every message again, after which the server finds them all.
#[tokio::test]
async fn the_search_index_is_rebuilt_from_the_command_line_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = Server::start(dir.path(), port).await;
    let addr = format!("127.0.0.1:{port}");
    let ann = register_at(&addr, Transport::Http, "ann").await;
    let c = Client::connect(&addr, Transport::Http, Some(&ann.token)).await.unwrap();
    let g = group(&c, pb::ConversationKind::Group, "notes", &[]).await;
    for i in 0..30 {
        send(&c, &conv_id(&g), &format!("k{i}"), &format!("rebuild note number{i}")).await;
    }
    let (ok, out) = run(dir.path(), &["search", "status"], None).await;
    assert!(ok && out.contains("backlog 0"), "{out}");
    let (ok, out) = run(dir.path(), &["search", "rebuild"], None).await;
    assert!(ok && out.contains("rebuilt the search index: 30 messages") && out.contains("backlog 0"), "{out}");
    let hits: pb::SearchMessagesResponse = c
        .call(
            "SearchService/SearchMessages",
            &pb::SearchMessagesRequest { query: "rebuild".into(), limit: 50, ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(hits.hits.len(), 30);
}

#[tokio::test]
async fn sigterm_drains_and_closes_websockets_with_going_away() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = Server::start(dir.path(), port).await;
    let addr = format!("127.0.0.1:{port}");
    let anon = Client::connect(&addr, Transport::Http, None).await.unwrap();
    let r: pb::RegisterResponse = anon
        .call(
            "AuthService/Register",
            &pb::RegisterRequest { username: "ann".into(), password: PASSWORD.into(), ..Default::default() },
        )
        .await
        .unwrap();
    let token = r.tokens.unwrap().access_token;
    let mut ws = Client::connect(&addr, Transport::WsJson, Some(&token)).await.unwrap();
    let mut events = ws.subscribe(pb::SubscribeRequest::default()).await.unwrap();
    wait_for(&mut events, 10, is_caught_up).await;
    let status = std::process::Command::new("kill").args(["-TERM", &server.pid().to_string()]).status().unwrap();
    assert!(status.success());
    assert_eq!(wait_closed(&mut events, 15).await, (1001, "server_shutdown".to_owned()));
    let exit =
        tokio::time::timeout(Duration::from_secs(20), server.child.wait()).await.expect("server did not exit").unwrap();
    assert!(exit.success(), "{exit:?}");
}

/// A mistyped setting stops the binary at once with the nearest valid name, instead of
/// running with the default; `config check` and `config show` tell an operator before.
#[tokio::test]
async fn a_mistyped_setting_stops_serve_and_config_check_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("switchboard.toml");
    std::fs::write(&file, "[service]\nregistraton = \"closed\"\n").unwrap();
    let config = file.to_str().unwrap();
    let port = free_port().to_string();
    let (ok, out) =
        run(dir.path(), &["--config", config, "serve", "--listen", &format!("127.0.0.1:{port}")], None).await;
    assert!(!ok, "serve started with a typo in its configuration:\n{out}");
    assert!(out.contains("unknown setting `service.registraton`") && out.contains("`service.registration`"), "{out}");
    let (ok, out) = run(dir.path(), &["--config", config, "config", "check"], None).await;
    assert!(!ok && out.contains("service.registraton"), "{out}");

    std::fs::write(&file, "[service]\nregistration = \"closed\"\n[files.s3]\nsecret_access_key = \"hush-hush\"\n")
        .unwrap();
    let (ok, out) = run(dir.path(), &["--config", config, "config", "check"], None).await;
    assert!(ok && out.contains("configuration OK"), "{out}");
    let (ok, out) =
        run(dir.path(), &["--config", config, "--store", "postgres://app:secret@db/chat", "config", "show"], None)
            .await;
    assert!(ok, "{out}");
    assert!(out.contains("service.registration = \"closed\"  # file"), "{out}");
    assert!(out.contains("store = \"postgres://app:***@db/chat\"  # flag"), "{out}");
    assert!(out.contains("service.argon2.memory_kib = 64  # environment"), "{out}");
    assert!(!out.contains("app:secret") && !out.contains("hush-hush"), "{out}");
    assert!(out.contains("files.s3.secret_access_key = \"***\"  # file"), "{out}");
    // Out-of-range values are refused by name.
    std::fs::write(&file, "[service]\nconnection_queue = 2\n").unwrap();
    let (ok, out) = run(dir.path(), &["--config", config, "config", "check"], None).await;
    assert!(!ok && out.contains("`service.connection_queue` must be at least 16"), "{out}");
}

/// A store URL that cannot work is a permanent error: `serve` fails at once instead of
/// retrying as it does while a database is unreachable.
#[tokio::test]
async fn a_malformed_store_url_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let (ok, out) = run(
        dir.path(),
        &["--store", "postgres://app@127.0.0.1:5432/chat?no_such_option=1", "serve", "--listen", "127.0.0.1:0"],
        None,
    )
    .await;
    assert!(!ok, "{out}");
    assert!(out.contains("connect to PostgreSQL") && out.contains("bad url"), "{out}");
    assert!(started.elapsed() < Duration::from_secs(20), "it retried a permanent error ({:?})", started.elapsed());
}

/// With `log_access`, every request leaves one line with its method, result, duration and
/// caller, and never the token.
#[tokio::test]
async fn the_access_log_has_a_line_per_request_without_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let env = [
        ("SWITCHBOARD_LOG_ACCESS".to_owned(), "true".to_owned()),
        ("SWITCHBOARD_LOG_LEVEL".to_owned(), "warn".to_owned()),
    ];
    let server = Server::start_with(dir.path(), port, &env).await;
    let addr = format!("127.0.0.1:{port}");
    let ann = register_at(&addr, Transport::Http, "ann").await;
    let c = Client::connect(&addr, Transport::Http, Some(&ann.token)).await.unwrap();
    let _: pb::GetMeResponse = c.call("UserService/GetMe", &pb::GetMeRequest {}).await.unwrap();
    let _ = c
        .call::<_, pb::GetUsersResponse>("UserService/GetUsers", &pb::GetUsersRequest { user_ids: vec!["x".into()] })
        .await;
    drop(server);
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("switchboard_access")).collect();
    let me = lines.iter().find(|l| l.contains("UserService/GetMe")).unwrap_or_else(|| panic!("no access line:\n{log}"));
    assert!(me.contains("code=\"ok\"") || me.contains("code=ok"), "{me}");
    assert!(me.contains(&format!("user={}", ann.id)) && me.contains("duration_ms="), "{me}");
    assert!(lines.iter().any(|l| l.contains("UserService/GetUsers") && l.contains("invalid_argument")), "{log}");
    assert!(lines.iter().any(|l| l.contains("AuthService/Register")), "{log}");
    assert!(!log.contains(&ann.token), "a token reached the log");
}
