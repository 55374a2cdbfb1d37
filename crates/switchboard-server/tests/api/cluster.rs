//! Cluster mode: three nodes (real binaries) on 127.0.0.1 share one PostgreSQL and one
//! NATS. Needs `SWITCHBOARD_TEST_POSTGRES_URL` and `SWITCHBOARD_TEST_NATS_URL`; without
//! them each test prints why and passes. The NATS-restart test runs its own nats-server.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use switchboard_client::proto as pb;
use switchboard_client::{Client, Resumable, Transport};

use crate::cli::{Server, free_port};
use crate::helpers::*;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Settings of one test's cluster: its own schema and subject prefix.
struct Cluster {
    env: Vec<(String, String)>,
    dir: tempfile::TempDir,
    nodes: Vec<(u16, Option<Server>)>,
    pg: String,
    schema: String,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Stop the nodes, then drop the test's schema from a runtime of its own.
        self.nodes.clear();
        let (url, schema) = (self.pg.clone(), self.schema.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.ok()?;
                tokio::spawn(conn);
                client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await.ok()
            })
        })
        .join();
    }
}

fn services() -> Option<(String, String)> {
    match (std::env::var("SWITCHBOARD_TEST_POSTGRES_URL"), std::env::var("SWITCHBOARD_TEST_NATS_URL")) {
        (Ok(pg), Ok(nats)) => Some((pg, nats)),
        _ => {
            eprintln!("skipped: SWITCHBOARD_TEST_POSTGRES_URL and SWITCHBOARD_TEST_NATS_URL must both be set");
            None
        }
    }
}

impl Cluster {
    async fn start(pg: &str, nats: &str, nodes: usize) -> Self {
        let tag = format!("cl_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let env = vec![
            ("SWITCHBOARD_STORE".to_owned(), pg.to_owned()),
            ("SWITCHBOARD_BUS".to_owned(), nats.to_owned()),
            ("SWITCHBOARD_POSTGRES__SCHEMA".to_owned(), tag.clone()),
            ("SWITCHBOARD_NATS__PREFIX".to_owned(), tag.clone()),
        ];
        let dir = tempfile::tempdir().unwrap();
        let mut cluster = Self { env, dir, nodes: Vec::new(), pg: pg.to_owned(), schema: tag };
        for _ in 0..nodes {
            let port = free_port();
            let server = Server::start_with(cluster.dir.path(), port, &cluster.env).await;
            cluster.nodes.push((port, Some(server)));
        }
        for i in 0..nodes {
            cluster.wait_ready(i).await;
        }
        cluster
    }

    fn addr(&self, i: usize) -> String {
        format!("127.0.0.1:{}", self.nodes[i].0)
    }

    async fn wait_ready(&self, i: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while readyz(&self.addr(i)).await != 200 {
            assert!(tokio::time::Instant::now() < deadline, "node {i} never became ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn kill(&mut self, i: usize) {
        if let Some(mut s) = self.nodes[i].1.take() {
            s.kill().await;
        }
    }
}

pub async fn readyz(addr: &str) -> u16 {
    get(addr, "/readyz").await.0
}

/// GET `path` on a node: status (0 when unreachable) and the whole response text.
async fn get(addr: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else { return (0, String::new()) };
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).await.is_err() {
        return (0, String::new());
    }
    let mut out = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut out)).await;
    (out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0), out)
}

/// The value of the unlabelled gauge `name` in a node's /metrics.
async fn gauge(addr: &str, name: &str) -> Option<f64> {
    let (_, body) = get(addr, "/metrics").await;
    body.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
}

fn text_of(e: &pb::Event) -> Option<(u64, String)> {
    match &e.kind {
        Some(pb::event::Kind::MessageCreated(m)) => match &m.content {
            Some(pb::message::Content::Text(t)) => Some((m.seq, t.text.clone())),
            _ => None,
        },
        _ => None,
    }
}

/// Reads `stream` until it has every text in `want` (each once) or time runs out.
async fn collect_texts(stream: &mut Resumable, want: &BTreeSet<String>, secs: u64) -> Vec<(u64, String)> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !want.iter().all(|w| got.iter().any(|(_, t)| t == w)) {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let e = tokio::time::timeout(left, stream.next()).await.expect("missing events").expect("stream failed");
        if let Some(t) = text_of(&e) {
            got.push(t);
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_serve_one_user_base_and_a_killed_node_loses_nothing() {
    let Some((pg, nats)) = services() else { return };
    let mut cluster = Cluster::start(&pg, &nats, 3).await;
    let ann = register_at(&cluster.addr(0), Transport::Http, "ann").await;
    let bob = register_at(&cluster.addr(1), Transport::Http, "bob").await;
    let cat = register_at(&cluster.addr(2), Transport::Http, "cat").await;
    let ann_c = Client::connect(&cluster.addr(0), Transport::Grpc, Some(&ann.token)).await.unwrap();
    let bob_c = Client::connect(&cluster.addr(1), Transport::WsBinary, Some(&bob.token)).await.unwrap();
    let g = group(&ann_c, pb::ConversationKind::Group, "Across nodes", &[&bob, &cat]).await;
    let gid = conv_id(&g);
    let dm: pb::CreateDirectResponse = bob_c
        .call("ConversationService/CreateDirect", &pb::CreateDirectRequest { user_id: ann.id.clone() })
        .await
        .unwrap();
    let dm_id = conv_id(dm.conversation.as_ref().unwrap());

    // Cat follows on node 3 (failing over to node 1); ann follows the DM on node 1.
    let mut cat_stream = Resumable::new(&cluster.addr(2), Transport::WsJson, &cat.token, Default::default())
        .with_fallbacks(&[&cluster.addr(0)]);
    let mut ann_stream = Resumable::new(&cluster.addr(0), Transport::Grpc, &ann.token, Default::default());
    let first: BTreeSet<String> = (0..10).map(|i| format!("g{i}")).collect();
    for i in 0..10 {
        let who = if i % 2 == 0 { &ann_c } else { &bob_c };
        send(who, &gid, &format!("g{i}"), &format!("g{i}")).await;
    }
    send(&bob_c, &dm_id, "d0", "psst on node 2").await;
    let got = collect_texts(&mut cat_stream, &first, 20).await;
    assert_eq!(got.len(), 10, "each message once: {got:?}");
    let dm_text: BTreeSet<String> = ["psst on node 2".to_owned()].into();
    collect_texts(&mut ann_stream, &dm_text, 20).await;

    // Node 3 dies mid-traffic; cat's client fails over to node 1 and catches up.
    let sender = {
        let (addr, token, gid) = (cluster.addr(1), bob.token.clone(), gid.clone());
        tokio::spawn(async move {
            let c = Client::connect(&addr, Transport::Http, Some(&token)).await.unwrap();
            for i in 10..60 {
                send(&c, &gid, &format!("g{i}"), &format!("g{i}")).await;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    cluster.kill(2).await;
    sender.await.unwrap();
    let rest: BTreeSet<String> = (10..60).map(|i| format!("g{i}")).collect();
    let got = collect_texts(&mut cat_stream, &rest, 60).await;
    let seqs: Vec<u64> = got.iter().map(|(s, _)| *s).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order: {seqs:?}");
    assert_eq!(got.len(), 50, "nothing duplicated: {got:?}");
    let state: pb::GetStateResponse = ann_c.call("SyncService/GetState", &pb::GetStateRequest {}).await.unwrap();
    let last = state.conversations.iter().find(|c| c.conversation_id == gid).unwrap().seq;
    assert_eq!(cat_stream.positions().conversations[&gid], last);

    // Ending a session on one node closes its connection on another.
    let phone = {
        let anon = Client::connect(&cluster.addr(1), Transport::Http, None).await.unwrap();
        let r: pb::LoginResponse = anon
            .call(
                "AuthService/Login",
                &pb::LoginRequest { username: "ann".into(), password: PASSWORD.into(), device: None },
            )
            .await
            .unwrap();
        r.tokens.unwrap()
    };
    let mut phone_ws = Client::connect(&cluster.addr(1), Transport::WsJson, Some(&phone.access_token)).await.unwrap();
    let mut phone_events =
        phone_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut phone_events, 10, is_caught_up).await;
    let _: pb::EndSessionResponse = ann_c
        .call("SessionService/EndSession", &pb::EndSessionRequest { session_id: phone.session_id.clone() })
        .await
        .unwrap();
    assert_eq!(wait_closed(&mut phone_events, 15).await.0, 4001);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_from_every_node_make_one_gap_free_order_that_every_member_sees() {
    let Some((pg, nats)) = services() else { return };
    let cluster = Cluster::start(&pg, &nats, 3).await;
    let mut users = Vec::new();
    for (i, name) in ["ann", "bob", "cat"].iter().enumerate() {
        users.push(register_at(&cluster.addr(i), Transport::Http, name).await);
    }
    let owner = Client::connect(&cluster.addr(0), Transport::Http, Some(&users[0].token)).await.unwrap();
    let g = group(&owner, pb::ConversationKind::Group, "Race", &[&users[1], &users[2]]).await;
    let gid = conv_id(&g);
    let mut streams: Vec<Resumable> = (0..3)
        .map(|i| Resumable::new(&cluster.addr(i), Transport::WsBinary, &users[i].token, Default::default()))
        .collect();
    let mut senders = Vec::new();
    for (i, user) in users.iter().enumerate() {
        let (addr, token, gid) = (cluster.addr(i), user.token.clone(), gid.clone());
        senders.push(tokio::spawn(async move {
            let c = Client::connect(&addr, Transport::Grpc, Some(&token)).await.unwrap();
            let mut tasks = Vec::new();
            for k in 0..40 {
                let (c2, gid) = (Client::connect(&addr, Transport::Http, Some(&token)).await.unwrap(), gid.clone());
                tasks.push(tokio::spawn(async move {
                    send(&c2, &gid, &format!("n{i}-{k}"), &format!("n{i}-{k}")).await.seq
                }));
            }
            drop(c);
            let mut seqs = Vec::new();
            for t in tasks {
                seqs.push(t.await.unwrap());
            }
            seqs
        }));
    }
    let mut all_seqs = Vec::new();
    for s in senders {
        all_seqs.extend(s.await.unwrap());
    }
    all_seqs.sort_unstable();
    assert_eq!(all_seqs, (2..122).collect::<Vec<u64>>(), "seqs are unique and gap-free");
    let want: BTreeSet<String> = (0..3).flat_map(|i| (0..40).map(move |k| format!("n{i}-{k}"))).collect();
    let mut orders = Vec::new();
    for s in &mut streams {
        let got = collect_texts(s, &want, 60).await;
        assert_eq!(got.len(), 120);
        orders.push(got);
    }
    assert_eq!(orders[0], orders[1], "node 1 and node 2 members see one order");
    assert_eq!(orders[0], orders[2], "node 1 and node 3 members see one order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_restart_mid_traffic_loses_and_repeats_nothing_and_readiness_follows_it() {
    let Some((pg, _)) = services() else { return };
    let bin = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(bin) = bin else {
        eprintln!("skipped: no nats-server binary to restart");
        return;
    };
    let nats_port = free_port();
    let start_nats = || {
        tokio::process::Command::new(bin)
            .args(["-a", "127.0.0.1", "-p", &nats_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    };
    let mut nats = start_nats();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cluster = Cluster::start(&pg, &format!("nats://127.0.0.1:{nats_port}"), 2).await;
    let ann = register_at(&cluster.addr(0), Transport::Http, "ann").await;
    let bob = register_at(&cluster.addr(1), Transport::Http, "bob").await;
    let c = Client::connect(&cluster.addr(0), Transport::Http, Some(&ann.token)).await.unwrap();
    let g = group(&c, pb::ConversationKind::Group, "Blip", &[&bob]).await;
    let gid = conv_id(&g);
    let mut bob_stream = Resumable::new(&cluster.addr(1), Transport::Grpc, &bob.token, Default::default());
    send(&c, &gid, "warm", "warm").await;
    collect_texts(&mut bob_stream, &["warm".to_owned()].into(), 20).await;

    let sender = {
        let (addr, token, gid) = (cluster.addr(0), ann.token.clone(), gid.clone());
        tokio::spawn(async move {
            let c = Client::connect(&addr, Transport::Http, Some(&token)).await.unwrap();
            for i in 0..60 {
                send(&c, &gid, &format!("b{i}"), &format!("b{i}")).await;
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    nats.kill().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while readyz(&cluster.addr(1)).await == 200 {
        assert!(tokio::time::Instant::now() < deadline, "readyz stayed 200 without NATS");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The connection state is on /metrics, with the pool's (sampled every 2 s).
    assert_eq!(gauge(&cluster.addr(1), "switchboard_bus_connected").await, Some(0.0));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _nats = start_nats();
    cluster.wait_ready(1).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while gauge(&cluster.addr(1), "switchboard_bus_connected").await != Some(1.0) {
        assert!(tokio::time::Instant::now() < deadline, "switchboard_bus_connected stayed 0 after NATS came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    while gauge(&cluster.addr(1), "switchboard_store_pool_max_connections").await != Some(16.0) {
        assert!(tokio::time::Instant::now() < deadline, "the pool's size limit is not on /metrics");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, body) = get(&cluster.addr(1), "/metrics").await;
    let body = body.split_once("\r\n\r\n").map_or(body.as_str(), |(_, b)| b);
    assert!(body.contains("switchboard_store_pool_connections{state=\"idle\"}"), "{body}");
    crate::transports::check_metric_conventions(body);
    sender.await.unwrap();
    let want: BTreeSet<String> = (0..60).map(|i| format!("b{i}")).collect();
    let got = collect_texts(&mut bob_stream, &want, 60).await;
    assert_eq!(got.len(), 60, "each once: {got:?}");
    assert!(got.windows(2).all(|w| w[0].0 < w[1].0), "in order");
}

fn presence_of<'a>(e: &'a pb::Event, user: &TestUser) -> Option<&'a pb::Presence> {
    match &e.kind {
        Some(pb::event::Kind::Presence(p)) if p.user_id == user.id => Some(p),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_is_one_status_across_nodes_and_a_dead_node_takes_its_users_offline() {
    let Some((pg, nats)) = services() else { return };
    let mut cluster = Cluster::start(&pg, &nats, 3).await;
    let ann = register_at(&cluster.addr(0), Transport::Http, "ann").await;
    let bob = register_at(&cluster.addr(1), Transport::Http, "bob").await;
    let mut bob_ws = Client::connect(&cluster.addr(1), Transport::WsJson, Some(&bob.token)).await.unwrap();
    let mut bob_events =
        bob_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut bob_events, 10, is_caught_up).await;
    let watch = pb::SubscribePresenceRequest { user_ids: vec![ann.id.clone()] };
    let now: pb::SubscribePresenceResponse = bob_ws.call("SignalService/SubscribePresence", &watch).await.unwrap();
    assert_eq!(now.presences[0].status, pb::PresenceStatus::Offline as i32);

    // Ann comes online on node 1: bob, on node 2, hears it.
    let mut ann_a = Client::connect(&cluster.addr(0), Transport::WsBinary, Some(&ann.token)).await.unwrap();
    let mut ann_a_events =
        ann_a.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut ann_a_events, 10, is_caught_up).await;
    let e = wait_for(&mut bob_events, 15, |e| presence_of(e, &ann).is_some()).await;
    assert_eq!(presence_of(&e, &ann).unwrap().status, pb::PresenceStatus::Online as i32);

    // Typing crosses nodes on the conversation's subject.
    let dm: pb::CreateDirectResponse = ann_a
        .call("ConversationService/CreateDirect", &pb::CreateDirectRequest { user_id: bob.id.clone() })
        .await
        .unwrap();
    let dm_id = conv_id(dm.conversation.as_ref().unwrap());
    wait_for(&mut bob_events, 15, |e| matches!(e.kind, Some(pb::event::Kind::ConversationJoined(_)))).await;
    let _: pb::SetTypingResponse = ann_a
        .call("SignalService/SetTyping", &pb::SetTypingRequest { conversation_id: dm_id.clone(), typing: true })
        .await
        .unwrap();
    let e = wait_for(&mut bob_events, 15, |e| matches!(&e.kind, Some(pb::event::Kind::Typing(t)) if t.typing)).await;
    let Some(pb::event::Kind::Typing(t)) = e.kind else { unreachable!() };
    assert_eq!((t.user_id.as_str(), t.conversation_id.as_str()), (ann.id.as_str(), dm_id.as_str()));

    // A second connection on node 3, then the first closes: still online, once.
    let mut ann_b = Client::connect(&cluster.addr(2), Transport::WsJson, Some(&ann.token)).await.unwrap();
    let mut ann_b_events =
        ann_b.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut ann_b_events, 10, is_caught_up).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    ann_a.close().await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    while let Some(switchboard_client::StreamEvent::Event(e)) = bob_events.next_within(Duration::from_millis(50)).await
    {
        assert!(presence_of(&e, &ann).is_none(), "no presence change while ann stays connected: {e:?}");
    }
    let now: pb::SubscribePresenceResponse = bob_ws.call("SignalService/SubscribePresence", &watch).await.unwrap();
    assert_eq!(now.presences[0].status, pb::PresenceStatus::Online as i32);

    // Node 3 dies with ann's last connection: she goes offline by expiry.
    cluster.kill(2).await;
    let e = wait_for(&mut bob_events, 20, |e| presence_of(e, &ann).is_some()).await;
    let p = presence_of(&e, &ann).unwrap();
    assert_eq!(p.status, pb::PresenceStatus::Offline as i32);
    assert!(p.last_seen_at_ms > 0);
    drop(ann_b_events);
}

#[tokio::test]
async fn a_block_on_one_node_ends_a_presence_watch_on_another() {
    let Some((pg, nats)) = services() else { return };
    let cluster = Cluster::start(&pg, &nats, 2).await;
    let ann = register_at(&cluster.addr(0), Transport::Http, "ann").await;
    let bob = register_at(&cluster.addr(1), Transport::Http, "bob").await;
    let mut ann_ws = Client::connect(&cluster.addr(0), Transport::WsJson, Some(&ann.token)).await.unwrap();
    let mut ann_events =
        ann_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut ann_events, 10, is_caught_up).await;
    let mut bob_ws = Client::connect(&cluster.addr(1), Transport::WsJson, Some(&bob.token)).await.unwrap();
    let mut bob_events =
        bob_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut bob_events, 10, is_caught_up).await;
    let watch = pb::SubscribePresenceRequest { user_ids: vec![ann.id.clone()] };
    for _ in 0..100 {
        let now: pb::SubscribePresenceResponse = bob_ws.call("SignalService/SubscribePresence", &watch).await.unwrap();
        if now.presences[0].status == pb::PresenceStatus::Online as i32 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _: pb::BlockUserResponse =
        ann_ws.call("ContactService/BlockUser", &pb::BlockUserRequest { user_id: bob.id.clone() }).await.unwrap();
    let e = wait_for(&mut bob_events, 15, |e| presence_of(e, &ann).is_some()).await;
    let p = presence_of(&e, &ann).unwrap();
    assert_eq!((p.status, p.last_seen_at_ms), (pb::PresenceStatus::Offline as i32, 0), "told she is gone, never seen");
    // Her next change does not reach him.
    let away = pb::SetPresenceRequest { status: pb::PresenceStatus::Away as i32 };
    let _: pb::SetPresenceResponse = ann_ws.call("SignalService/SetPresence", &away).await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    while let Some(switchboard_client::StreamEvent::Event(e)) = bob_events.next_within(Duration::from_millis(50)).await
    {
        assert!(presence_of(&e, &ann).is_none(), "no presence after the block: {e:?}");
    }
}

/// A TCP proxy the test can cut and restore, standing between a node and PostgreSQL.
struct Proxy {
    port: u16,
    on: std::sync::Arc<std::sync::atomic::AtomicBool>,
    cut: tokio::sync::watch::Sender<u64>,
}

impl Proxy {
    async fn start(target: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let on = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let (cut, _) = tokio::sync::watch::channel(0u64);
        let (on2, cut2) = (on.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !on2.load(Ordering::SeqCst) {
                    continue;
                }
                let target = target.clone();
                let mut cut_rx = cut2.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut_rx.changed() => {}
                    }
                });
            }
        });
        Self { port, on, cut }
    }

    fn set(&self, on: bool) {
        self.on.store(on, Ordering::SeqCst);
        if !on {
            self.cut.send_modify(|n| *n += 1);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_postgres_is_unreachable_requests_fail_fast_with_unavailable_and_the_node_recovers() {
    let Some((pg, nats)) = services() else { return };
    let mut url = url_lite::PgUrl::parse(&pg);
    let proxy = Proxy::start(url.host_port()).await;
    url.set_host_port(&format!("127.0.0.1:{}", proxy.port));
    let cluster = Cluster::start(&url.to_string(), &nats, 1).await;
    let ann = register_at(&cluster.addr(0), Transport::Http, "ann").await;
    let c = Client::connect(&cluster.addr(0), Transport::Http, Some(&ann.token)).await.unwrap();
    let _: pb::GetMeResponse = c.call("UserService/GetMe", &pb::GetMeRequest {}).await.unwrap();

    use tonic_health::pb::health_check_response::ServingStatus;
    let channel =
        tonic::transport::Channel::from_shared(format!("http://{}", cluster.addr(0))).unwrap().connect().await.unwrap();
    let health = tonic_health::pb::health_client::HealthClient::new(channel);
    let grpc_health = || {
        let mut h = health.clone();
        async move {
            let req = tonic_health::pb::HealthCheckRequest { service: String::new() };
            h.check(req).await.map(|r| r.into_inner().status).unwrap_or(-1)
        }
    };
    // Health is re-checked every second: it may still show the moment before the bus was
    // connected.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while grpc_health().await != ServingStatus::Serving as i32 {
        assert!(tokio::time::Instant::now() < deadline, "gRPC health never became SERVING");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    proxy.set(false);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while readyz(&cluster.addr(0)).await == 200 {
        assert!(tokio::time::Instant::now() < deadline, "readyz stayed 200 without PostgreSQL");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // gRPC health follows readiness.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while grpc_health().await != ServingStatus::NotServing as i32 {
        assert!(tokio::time::Instant::now() < deadline, "gRPC health stayed SERVING without PostgreSQL");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let started = tokio::time::Instant::now();
    let err = c.call::<_, pb::GetMeResponse>("UserService/GetMe", &pb::GetMeRequest {}).await.unwrap_err();
    assert_eq!(err.code, pb::ErrorCode::Unavailable, "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(15), "a request hung for {:?}", started.elapsed());

    proxy.set(true);
    cluster.wait_ready(0).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while grpc_health().await != ServingStatus::Serving as i32 {
        assert!(tokio::time::Instant::now() < deadline, "gRPC health did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let me: pb::GetMeResponse = c.call("UserService/GetMe", &pb::GetMeRequest {}).await.unwrap();
    assert_eq!(me.user.unwrap().id, ann.id);
}

/// Just enough URL handling to point a PostgreSQL URL at the proxy.
mod url_lite {
    pub struct PgUrl {
        scheme_user: String,
        host_port: String,
        rest: String,
    }

    impl PgUrl {
        pub fn parse(url: &str) -> Self {
            let (scheme, after) = url.split_once("://").unwrap();
            let (user, hostpart) = match after.split_once('@') {
                Some((u, h)) => (format!("{u}@"), h),
                None => (String::new(), after),
            };
            let (host_port, rest) = match hostpart.find('/') {
                Some(i) => (hostpart[..i].to_owned(), hostpart[i..].to_owned()),
                None => (hostpart.to_owned(), String::new()),
            };
            let host_port = if host_port.contains(':') { host_port } else { format!("{host_port}:5432") };
            Self { scheme_user: format!("{scheme}://{user}"), host_port, rest }
        }

        pub fn host_port(&self) -> String {
            self.host_port.clone()
        }

        pub fn set_host_port(&mut self, hp: &str) {
            self.host_port = hp.to_owned();
        }
    }

    impl std::fmt::Display for PgUrl {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{}{}{}", self.scheme_user, self.host_port, self.rest)
        }
    }
}

/// Spaces across nodes: layout edits from two nodes at once all land (compare-and-set on
/// PostgreSQL), and access granted on one node reaches a member's socket on another.
#[tokio::test]
async fn a_space_edited_from_two_nodes_keeps_every_change_and_access_follows_live() {
    use crate::spaces::{assign, create_channel, create_role, create_space, invite, join, try_send};
    let Some((pg, nats)) = services() else { return };
    let cluster = Cluster::start(&pg, &nats, 2).await;
    let ann = register_at(&cluster.addr(0), Transport::Http, "ann").await;
    let bob = register_at(&cluster.addr(1), Transport::Http, "bob").await;
    let a = Client::connect(&cluster.addr(0), Transport::Http, Some(&ann.token)).await.unwrap();
    let b = Client::connect(&cluster.addr(1), Transport::Http, Some(&bob.token)).await.unwrap();
    let space = create_space(&a, "Across", false).await;
    let sid = space.id.clone();
    let mut bob_ws = Client::connect(&cluster.addr(1), Transport::WsJson, Some(&bob.token)).await.unwrap();
    let mut bob_events = bob_ws.subscribe(pb::SubscribeRequest::default()).await.unwrap();
    wait_for(&mut bob_events, 10, is_caught_up).await;
    join(&b, &invite(&a, &sid, 0).await).await;
    wait_for(&mut bob_events, 10, |e| {
        matches!(&e.kind, Some(pb::event::Kind::ConversationJoined(j)) if j.conversation_id == space.default_channel_id)
    })
    .await;

    // Bob manages channels; both create folders at once through different nodes.
    let admin =
        create_role(&a, &sid, "admins", 10, &[pb::Permission::ManageChannels, pb::Permission::ManageRoles], &[]).await;
    assign(&a, &sid, &bob, &admin.id).await;
    let mut tasks = Vec::new();
    for (node, token) in [(0, ann.token.clone()), (1, bob.token.clone())] {
        let addr = cluster.addr(node);
        let sid = sid.clone();
        tasks.push(tokio::spawn(async move {
            let c = Client::connect(&addr, Transport::Http, Some(&token)).await.unwrap();
            for k in 0..10 {
                let _: pb::CreateFolderResponse = c
                    .call(
                        "SpaceService/CreateFolder",
                        &pb::CreateFolderRequest {
                            space_id: sid.clone(),
                            name: format!("n{node}-{k}"),
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let r: pb::GetSpaceResponse =
        a.call("SpaceService/GetSpace", &pb::GetSpaceRequest { space_id: sid.clone() }).await.unwrap();
    let names: BTreeSet<String> = r.space.unwrap().folders.into_iter().map(|f| f.name).collect();
    assert_eq!(names.len(), 20, "no concurrent layout change is lost: {names:?}");

    // A private channel for a role: assigning it on node 0 reaches bob's socket on node 1,
    // and bob's post there reaches ann.
    let insiders = create_role(&a, &sid, "insiders", 3, &[], &[]).await;
    let private = create_channel(
        &a,
        pb::CreateChannelRequest {
            space_id: sid.clone(),
            name: "inner".into(),
            private: true,
            allowed_role_ids: vec![insiders.id.clone()],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(code_of(try_send(&b, &private, "p0", "knock").await), pb::ErrorCode::NotFound);
    assign(&a, &sid, &bob, &insiders.id).await;
    wait_for(
        &mut bob_events,
        10,
        |e| matches!(&e.kind, Some(pb::event::Kind::ConversationJoined(j)) if j.conversation_id == private),
    )
    .await;
    try_send(&b, &private, "p1", "made it").await.unwrap();
}

/// A profile change on one node reaches a conversation peer connected to another node
/// (the broadcast subject every node hears).
#[tokio::test]
async fn a_profile_change_crosses_nodes() {
    let Some((pg, nats)) = services() else { return };
    let cluster = Cluster::start(&pg, &nats, 2).await;
    let ann = register_at(&cluster.addr(0), Transport::Http, "ann").await;
    let bob = register_at(&cluster.addr(1), Transport::Http, "bob").await;
    let a = Client::connect(&cluster.addr(0), Transport::Http, Some(&ann.token)).await.unwrap();
    group(&a, pb::ConversationKind::Group, "Across", &[&bob]).await;
    let mut bob_ws = Client::connect(&cluster.addr(1), Transport::WsJson, Some(&bob.token)).await.unwrap();
    let mut events = bob_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut events, 10, is_caught_up).await;
    let update = pb::UpdateProfileRequest { status_text: Some("on node 0".into()), ..Default::default() };
    let _: pb::UpdateProfileResponse = a.call("UserService/UpdateProfile", &update).await.unwrap();
    let e = wait_for(&mut events, 10, |e| matches!(e.kind, Some(pb::event::Kind::UserUpdated(_)))).await;
    let Some(pb::event::Kind::UserUpdated(u)) = e.kind else { unreachable!() };
    assert_eq!(u.user.unwrap().status_text, "on node 0");
}

#[tokio::test]
async fn files_on_s3_are_uploaded_on_one_node_and_downloaded_and_announced_on_another() {
    let Some((pg, nats)) = services() else { return };
    let Ok(s3) = std::env::var("SWITCHBOARD_TEST_S3_URL") else {
        eprintln!("skipped: SWITCHBOARD_TEST_S3_URL is not set");
        return;
    };
    let (endpoint, bucket) = s3.trim_end_matches('/').rsplit_once('/').unwrap();
    let mut cluster = Cluster::start(&pg, &nats, 0).await;
    let prefix = format!("{}/", cluster.schema);
    for (k, v) in [
        ("SWITCHBOARD_FILES__STORAGE", "s3"),
        ("SWITCHBOARD_FILES__S3__ENDPOINT", endpoint),
        ("SWITCHBOARD_FILES__S3__BUCKET", bucket),
        ("SWITCHBOARD_FILES__S3__ACCESS_KEY_ID", "test"),
        ("SWITCHBOARD_FILES__S3__SECRET_ACCESS_KEY", "test"),
        ("SWITCHBOARD_FILES__S3__PREFIX", &prefix),
    ] {
        cluster.env.push((k.to_owned(), v.to_owned()));
    }
    // Separate data directories, so that only the bucket is shared.
    let mut dirs = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let server = Server::start_with(dir.path(), port, &cluster.env).await;
        cluster.nodes.push((port, Some(server)));
        dirs.push(dir);
    }
    cluster.wait_ready(0).await;
    cluster.wait_ready(1).await;
    let ann = register_at(&cluster.addr(0), Transport::Http, "ann").await;
    let bob = register_at(&cluster.addr(1), Transport::Http, "bob").await;
    let a = Client::connect(&cluster.addr(0), Transport::Grpc, Some(&ann.token)).await.unwrap();
    let conv = conv_id(&group(&a, pb::ConversationKind::Group, "Across", &[&bob]).await);
    let mut bob_ws = Client::connect(&cluster.addr(1), Transport::WsJson, Some(&bob.token)).await.unwrap();
    let mut events = bob_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut events, 10, is_caught_up).await;

    let photo = crate::media::photo_with_gps(800, 600);
    let auth = format!("Bearer {}", ann.token);
    let r = http_raw(&cluster.addr(0), "POST", "/v1/files?name=p.jpg", &[("Authorization", &auth)], &photo).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let file_id = r.json()["id"].as_str().unwrap().to_owned();
    let _: pb::SendMessageResponse = a
        .call(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: conv,
                client_key: "p".into(),
                text: Some(pb::TextContent {
                    attachments: vec![pb::Attachment { file_id: file_id.clone(), ..Default::default() }],
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let e = wait_for(&mut events, 20, |e| matches!(e.kind, Some(pb::event::Kind::FileReady(_)))).await;
    let Some(pb::event::Kind::FileReady(ready)) = e.kind else { unreachable!() };
    let file = ready.file.unwrap();
    let sizes: Vec<_> = file.thumbnails.iter().map(|t| (t.width, t.height)).collect();
    assert_eq!(sizes, vec![(320, 240), (800, 600)], "the large preview is the photo itself, cleaned");
    let bob_auth = format!("Bearer {}", bob.token);
    let got = http_raw(&cluster.addr(1), "GET", &file.url, &[("Authorization", &bob_auth)], b"").await;
    assert_eq!(got.status, 200);
    assert!(!got.body.windows(11).any(|w| w == b"GPSLatitude"));
    let thumb = http_raw(&cluster.addr(1), "GET", &file.thumbnails[0].url, &[("Authorization", &bob_auth)], b"").await;
    assert_eq!(thumb.status, 200);
    // Nothing landed in either data directory: the bytes are in the bucket.
    for d in &dirs {
        assert!(!d.path().join("files").exists(), "files stayed out of {}", d.path().display());
    }
}

/// Two nodes look for due scheduled messages at once: each message goes out exactly once.
#[tokio::test]
async fn two_nodes_never_both_send_a_scheduled_message() {
    let Some((pg, nats)) = services() else { return };
    let mut cluster = Cluster::start(&pg, &nats, 0).await;
    cluster.env.push(("SWITCHBOARD_SERVICE__SCHEDULED_POLL_MS".to_owned(), "50".to_owned()));
    for _ in 0..2 {
        let port = free_port();
        let server = Server::start_with(cluster.dir.path(), port, &cluster.env).await;
        cluster.nodes.push((port, Some(server)));
    }
    for i in 0..2 {
        cluster.wait_ready(i).await;
    }
    let ann = register_at(&cluster.addr(0), Transport::Http, "ann").await;
    let a = Client::connect(&cluster.addr(1), Transport::Http, Some(&ann.token)).await.unwrap();
    let g = group(&a, pb::ConversationKind::Group, "timed", &[]).await;
    let id = conv_id(&g);
    let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 + 1_500;
    const N: usize = 60;
    for i in 0..N {
        let _: pb::ScheduleMessageResponse = a
            .call(
                "MessageService/ScheduleMessage",
                &pb::ScheduleMessageRequest {
                    conversation_id: id.clone(),
                    client_key: format!("t{i}"),
                    text: text(&format!("timed {i}")),
                    send_at_ms: at,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let texts = loop {
        let h: pb::GetHistoryResponse = a
            .call(
                "MessageService/GetHistory",
                &pb::GetHistoryRequest { conversation_id: id.clone(), limit: 200, ..Default::default() },
            )
            .await
            .unwrap();
        let texts: Vec<String> = h
            .messages
            .iter()
            .filter_map(|m| match &m.content {
                Some(pb::message::Content::Text(t)) => Some(t.text.clone()),
                _ => None,
            })
            .collect();
        if texts.len() >= N {
            break texts;
        }
        assert!(tokio::time::Instant::now() < deadline, "only {} of {N} went out", texts.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Both nodes kept looking meanwhile; nothing went out twice.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let unique: BTreeSet<&String> = texts.iter().collect();
    assert_eq!((texts.len(), unique.len()), (N, N));
}
