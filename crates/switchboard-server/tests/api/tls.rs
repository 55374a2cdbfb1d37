//! TLS through the real binary: the listener (every transport, reloads on SIGHUP and on
//! change), and in cluster mode TLS to PostgreSQL and NATS as well, with certificates
//! made in the test.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use switchboard_client::proto as pb;
use switchboard_client::{Client, Resumable, Tls, Transport};

use crate::cli::{Server, free_port, run};
use crate::helpers::*;

/// A self-signed certificate for localhost and 127.0.0.1, written as `cert.pem` and
/// `key.pem` into `dir`; returns the certificate's PEM.
fn certificate(dir: &Path) -> String {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    let pem = made.cert.pem();
    // Written beside and renamed, as certificate tools do, so no reader sees half a file.
    for (name, text) in [("cert.pem", pem.clone()), ("key.pem", made.signing_key.serialize_pem())] {
        std::fs::write(dir.join(format!("{name}.new")), text).unwrap();
        std::fs::rename(dir.join(format!("{name}.new")), dir.join(name)).unwrap();
    }
    pem
}

fn tls_env(dir: &Path, reload_secs: u64) -> Vec<(String, String)> {
    vec![
        ("SWITCHBOARD_TLS__CERT_FILE".to_owned(), dir.join("cert.pem").display().to_string()),
        ("SWITCHBOARD_TLS__KEY_FILE".to_owned(), dir.join("key.pem").display().to_string()),
        ("SWITCHBOARD_TLS__RELOAD_SECS".to_owned(), reload_secs.to_string()),
    ]
}

async fn register_tls(addr: &str, tls: &Tls, transport: Transport, name: &str) -> String {
    let c = Client::connect_tls(addr, transport, None, tls).await.unwrap();
    let r: pb::RegisterResponse = c
        .call(
            "AuthService/Register",
            &pb::RegisterRequest { username: name.into(), password: PASSWORD.into(), ..Default::default() },
        )
        .await
        .unwrap();
    r.tokens.unwrap().access_token
}

/// Whether a client trusting `tls` can call the server at `addr` now.
async fn accepted(addr: &str, tls: &Tls) -> bool {
    match Client::connect_tls(addr, Transport::Http, None, tls).await {
        Ok(c) => c
            .call::<_, pb::GetServerInfoResponse>("ServerService/GetServerInfo", &pb::GetServerInfoRequest::default())
            .await
            .is_ok(),
        Err(_) => false,
    }
}

async fn eventually_accepted(addr: &str, tls: &Tls, secs: u64) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if accepted(addr, tls).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

fn hangup(server: &Server) {
    let status = std::process::Command::new("kill").args(["-HUP", &server.pid().to_string()]).status().unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transport_works_over_tls_and_the_certificate_reloads_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let first = Tls::with_ca_pem(certificate(dir.path()).as_bytes()).unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    // Only SIGHUP reloads (no polling), so what changes below is the signal's doing.
    let server = Server::start_with(dir.path(), port, &tls_env(dir.path(), 0)).await;

    let token = register_tls(&addr, &first, Transport::Http, "ann").await;
    for transport in Transport::ALL {
        let c = Client::connect_tls(&addr, transport, Some(&token), &first).await.unwrap();
        let me: pb::GetMeResponse = c.call("UserService/GetMe", &pb::GetMeRequest {}).await.unwrap();
        assert_eq!(me.user.unwrap().username, "ann", "{transport:?}");
    }
    let mut ws = Client::connect_tls(&addr, Transport::WsBinary, Some(&token), &first).await.unwrap();
    let mut events = ws.subscribe(pb::SubscribeRequest::default()).await.unwrap();
    wait_for(&mut events, 10, is_caught_up).await;
    // Plain HTTP on the TLS port, or a certificate the client does not trust: refused.
    let plain = Client::connect(&addr, Transport::Http, None).await.unwrap();
    assert!(
        plain
            .call::<_, pb::GetServerInfoResponse>("ServerService/GetServerInfo", &pb::GetServerInfoRequest::default())
            .await
            .is_err()
    );
    let other_dir = tempfile::tempdir().unwrap();
    let stranger = Tls::with_ca_pem(certificate(other_dir.path()).as_bytes()).unwrap();
    assert!(!accepted(&addr, &stranger).await, "a certificate the client does not trust was accepted");

    // A new pair on disk is served after SIGHUP, to new connections; the old socket lives on.
    let second = Tls::with_ca_pem(certificate(dir.path()).as_bytes()).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!accepted(&addr, &second).await, "reloaded without being told");
    hangup(&server);
    assert!(eventually_accepted(&addr, &second, 10).await, "the certificate was not reloaded on SIGHUP");
    assert!(!accepted(&addr, &first).await);
    let me: pb::GetMeResponse = ws.call("UserService/GetMe", &pb::GetMeRequest {}).await.unwrap();
    assert_eq!(me.user.unwrap().username, "ann");
    // A broken pair is refused and the one in use kept.
    std::fs::write(dir.path().join("key.pem"), "not a key").unwrap();
    hangup(&server);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(accepted(&addr, &second).await, "a broken certificate replaced the working one");
    drop(server);
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(log.contains("TLS certificate not reloaded"), "{log}");

    // A pair that does not load (the key file is still broken) stops start-up with the
    // setting at fault.
    let bad = tempfile::tempdir().unwrap();
    let file = bad.path().join("switchboard.toml");
    std::fs::write(
        &file,
        format!(
            "[tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
            dir.path().join("cert.pem").display(),
            dir.path().join("key.pem").display()
        ),
    )
    .unwrap();
    let (ok, out) = run(
        bad.path(),
        &["--config", file.to_str().unwrap(), "serve", "--listen", &format!("127.0.0.1:{}", free_port())],
        None,
    )
    .await;
    assert!(!ok && out.contains("tls.key_file"), "{out}");
}

/// A cluster with TLS everywhere: clients to nodes, nodes to PostgreSQL (`require`) and
/// to NATS (`tls://`, trusting the test's certificate); a certificate replaced on disk is
/// picked up without a signal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_runs_with_tls_to_clients_postgres_and_nats() {
    let Ok(pg) = std::env::var("SWITCHBOARD_TEST_POSTGRES_URL") else {
        eprintln!("skipped: SWITCHBOARD_TEST_POSTGRES_URL is not set");
        return;
    };
    let Some(bin) = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        eprintln!("skipped: no nats-server binary to run with TLS");
        return;
    };
    let (client, conn) = tokio_postgres::connect(&pg, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let ssl: String = client.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    if ssl != "on" {
        eprintln!("skipped: the PostgreSQL server does not offer TLS (ssl = {ssl})");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let first = Tls::with_ca_pem(certificate(dir.path()).as_bytes()).unwrap();
    let nats_port = free_port();
    let cert = dir.path().join("cert.pem").display().to_string();
    let key = dir.path().join("key.pem").display().to_string();
    // NATS keeps the first pair: the nodes trust it as their CA file.
    std::fs::copy(&cert, dir.path().join("nats-cert.pem")).unwrap();
    std::fs::copy(&key, dir.path().join("nats-key.pem")).unwrap();
    let nats_cert = dir.path().join("nats-cert.pem").display().to_string();
    let _nats = tokio::process::Command::new(bin)
        .args(["-a", "127.0.0.1", "-p", &nats_port.to_string(), "--tls", "--tlscert"])
        .arg(&nats_cert)
        .arg("--tlskey")
        .arg(dir.path().join("nats-key.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let tag = format!("tls_{}_{}", std::process::id(), free_port());
    let sep = if pg.contains('?') { '&' } else { '?' };
    let mut env = tls_env(dir.path(), 1);
    env.extend([
        ("SWITCHBOARD_STORE".to_owned(), format!("{pg}{sep}application_name={tag}")),
        ("SWITCHBOARD_POSTGRES__SCHEMA".to_owned(), tag.clone()),
        ("SWITCHBOARD_POSTGRES__TLS".to_owned(), "require".to_owned()),
        ("SWITCHBOARD_BUS".to_owned(), format!("tls://127.0.0.1:{nats_port}")),
        ("SWITCHBOARD_NATS__TLS_CA_FILE".to_owned(), nats_cert.clone()),
        ("SWITCHBOARD_NATS__PREFIX".to_owned(), tag.clone()),
    ]);
    let node_dir = tempfile::tempdir().unwrap();
    let ports = [free_port(), free_port()];
    let mut nodes = Vec::new();
    for port in ports {
        nodes.push(Server::start_with(node_dir.path(), port, &env).await);
    }
    let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    for addr in &addrs {
        assert!(eventually_accepted(addr, &first, 20).await, "node {addr} does not serve TLS");
    }

    // Every connection the nodes hold to PostgreSQL is encrypted.
    let row = client
        .query_one(
            "SELECT count(*), COALESCE(bool_and(s.ssl), false) FROM pg_stat_ssl s \
             JOIN pg_stat_activity a USING (pid) WHERE a.application_name = $1",
            &[&tag],
        )
        .await
        .unwrap();
    let (connections, encrypted): (i64, bool) = (row.get(0), row.get(1));
    assert!(connections > 0 && encrypted, "{connections} connections, all encrypted: {encrypted}");

    // Across nodes, through NATS over TLS, to clients over TLS.
    let ann = register_tls(&addrs[0], &first, Transport::Http, "ann").await;
    let bob = register_tls(&addrs[1], &first, Transport::Grpc, "bob").await;
    let a = Client::connect_tls(&addrs[0], Transport::WsJson, Some(&ann), &first).await.unwrap();
    let bob_id = {
        let b = Client::connect_tls(&addrs[1], Transport::Grpc, Some(&bob), &first).await.unwrap();
        let me: pb::GetMeResponse = b.call("UserService/GetMe", &pb::GetMeRequest {}).await.unwrap();
        me.user.unwrap().id
    };
    let dm: pb::CreateDirectResponse =
        a.call("ConversationService/CreateDirect", &pb::CreateDirectRequest { user_id: bob_id }).await.unwrap();
    let dm_id = conv_id(dm.conversation.as_ref().unwrap());
    let mut stream = Resumable::new(&addrs[1], Transport::WsBinary, &bob, Default::default()).with_tls(first.clone());
    send(&a, &dm_id, "k1", "over tls").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let e = tokio::time::timeout_at(deadline, stream.next()).await.expect("bob got nothing").unwrap();
        if let Some(pb::event::Kind::MessageCreated(m)) = e.kind
            && let Some(pb::message::Content::Text(t)) = m.content
            && t.text == "over tls"
        {
            break;
        }
    }

    // A renewed certificate is picked up from disk by every node.
    let second = Tls::with_ca_pem(certificate(dir.path()).as_bytes()).unwrap();
    for addr in &addrs {
        assert!(eventually_accepted(addr, &second, 15).await, "node {addr} kept the old certificate");
    }
    drop(nodes);
    let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {tag} CASCADE")).await;
}
