//! The operator's copying commands through the real binary: `backup` of a live server
//! under write load, `restore`, and `port` of an embedded installation to PostgreSQL.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchboard_client::proto as pb;
use switchboard_client::{Client, Transport};

use crate::cli::{Server, free_port, run};
use crate::durability::all_messages;
use crate::helpers::*;
use crate::spaces::{create_channel, create_space};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_write_load_restores_every_message_acknowledged_before_it_began() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = Server::start(dir.path(), port).await;
    let ann = register_at(&addr, Transport::Http, "ann").await;
    let http = Client::connect(&addr, Transport::Http, Some(&ann.token)).await.unwrap();
    let gid = conv_id(&group(&http, pb::ConversationKind::Group, "Backed up", &[]).await);
    // A file, whose bytes the backup carries too.
    let auth = bearer(&ann);
    let file_bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 31 % 253) as u8).collect();
    let r = http_raw(&addr, "POST", "/v1/files?name=kept.bin", &[("Authorization", &auth)], &file_bytes).await;
    assert_eq!(r.status, 201);
    let file_url = r.json()["url"].as_str().unwrap().to_owned();

    // Four senders keep writing for the whole backup.
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut senders = Vec::new();
    for s in 0..4 {
        let (addr, token, gid, acked, stop) =
            (addr.clone(), ann.token.clone(), gid.clone(), acked.clone(), stop.clone());
        senders.push(tokio::spawn(async move {
            let c = Client::connect(&addr, Transport::WsBinary, Some(&token)).await.unwrap();
            for i in 0..20_000 {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    return;
                }
                let key = format!("s{s}-{i}");
                let req = pb::SendMessageRequest {
                    conversation_id: gid.clone(),
                    client_key: key.clone(),
                    text: text(&key),
                    ..Default::default()
                };
                if c.call::<_, pb::SendMessageResponse>("MessageService/SendMessage", &req).await.is_err() {
                    return;
                }
                acked.lock().unwrap().push(key);
            }
        }));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 300 {
        assert!(tokio::time::Instant::now() < deadline, "too few messages acknowledged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before: Vec<String> = acked.lock().unwrap().clone();
    let backup_dir = tempfile::tempdir().unwrap();
    let dest = backup_dir.path().join("nightly");
    let (ok, out) = run(dir.path(), &["backup", dest.to_str().unwrap()], None).await;
    assert!(ok, "{out}");
    assert!(out.contains("backup written to") && out.contains("messages"), "{out}");
    assert!(out.contains("1 file blobs copied (200000 bytes)"), "{out}");
    let during = acked.lock().unwrap().len();
    assert!(during > before.len(), "nothing was written while the backup ran");
    // The server must be stopped to restore over its database.
    let (ok, out) = run(dir.path(), &["restore", dest.to_str().unwrap(), "--force"], None).await;
    assert!(!ok && out.contains("in use by a running server"), "{out}");
    // A backup never overwrites another.
    let (ok, out) = run(dir.path(), &["backup", dest.to_str().unwrap()], None).await;
    assert!(!ok && out.contains("not empty"), "{out}");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for s in senders {
        s.await.unwrap();
    }
    server.kill().await;

    // Restored into a new data directory, a server has every message acknowledged before
    // the backup began, in one gap-free log.
    let restored = tempfile::tempdir().unwrap();
    let (ok, out) = run(restored.path(), &["restore", dest.to_str().unwrap()], None).await;
    assert!(ok && out.contains("restored into"), "{out}");
    let (ok, out) = run(restored.path(), &["restore", dest.to_str().unwrap()], None).await;
    assert!(!ok && out.contains("--force"), "restore replaced a database without --force: {out}");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let _server = Server::start(restored.path(), port).await;
    let http = Client::connect(&addr, Transport::Http, Some(&ann.token)).await.unwrap();
    let stored = all_messages(&http, &gid).await;
    let seqs: Vec<u64> = stored.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=stored.len() as u64).collect::<Vec<_>>(), "the restored log has a gap");
    let keys: std::collections::HashSet<String> = stored
        .iter()
        .filter_map(|m| match &m.content {
            Some(pb::message::Content::Text(t)) => Some(t.text.clone()),
            _ => None,
        })
        .collect();
    for key in &before {
        assert!(keys.contains(key), "message {key}, acknowledged before the backup began, is not in it");
    }
    let r = http_raw(&addr, "GET", &file_url, &[("Authorization", &auth)], b"").await;
    assert!(r.status == 200 && r.body == file_bytes, "the restored file has its bytes");
}

/// Everything one user sees that a port must carry: positions, the conversation list,
/// every message, the whole catch-up log, spaces and receipts.
#[derive(Debug, PartialEq)]
struct Seen {
    state: pb::GetStateResponse,
    conversations: Vec<pb::ConversationView>,
    messages: Vec<Vec<pb::Message>>,
    catch_up: Vec<pb::Event>,
    spaces: Vec<pb::Space>,
    receipts: pb::GetReceiptsResponse,
}

async fn seen_by(c: &Client, receipt_of: (&str, &str)) -> Seen {
    let state: pb::GetStateResponse = c.call("SyncService/GetState", &pb::GetStateRequest {}).await.unwrap();
    let list: pb::ListConversationsResponse =
        c.call("ConversationService/ListConversations", &pb::ListConversationsRequest::default()).await.unwrap();
    let mut messages = Vec::new();
    for v in &list.conversations {
        messages.push(all_messages(c, &conv_id(v)).await);
    }
    let mut catch_up = Vec::new();
    let mut req = pb::GetDifferenceRequest { limit: 50, ..Default::default() };
    for _ in 0..100 {
        let page: pb::GetDifferenceResponse = c.call("SyncService/GetDifference", &req).await.unwrap();
        assert!(!page.resync_required);
        for e in &page.events {
            if e.user_seq > 0 {
                req.user_seq = req.user_seq.max(e.user_seq);
            }
            if e.seq > 0 {
                let conv = e.conversation_id.clone();
                match req.positions.iter_mut().find(|p| p.conversation_id == conv) {
                    Some(p) => p.seq = p.seq.max(e.seq),
                    None => req.positions.push(pb::ConversationPosition { conversation_id: conv, seq: e.seq }),
                }
            }
        }
        catch_up.extend(page.events);
        if !page.more {
            break;
        }
    }
    let spaces: pb::ListMySpacesResponse =
        c.call("SpaceService/ListMySpaces", &pb::ListMySpacesRequest::default()).await.unwrap();
    let receipts: pb::GetReceiptsResponse = c
        .call(
            "MessageService/GetReceipts",
            &pb::GetReceiptsRequest { conversation_id: receipt_of.0.into(), message_id: receipt_of.1.into() },
        )
        .await
        .unwrap();
    Seen { state, conversations: list.conversations, messages, catch_up, spaces: spaces.spaces, receipts }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_installation_ported_to_postgres_serves_the_same_history_and_positions() {
    let Ok(pg) = std::env::var("SWITCHBOARD_TEST_POSTGRES_URL") else {
        eprintln!("skipped: SWITCHBOARD_TEST_POSTGRES_URL is not set");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = Server::start(dir.path(), port).await;
    let ann = register_at(&addr, Transport::Http, "ann").await;
    let bob = register_at(&addr, Transport::Http, "bob").await;
    let gone = register_at(&addr, Transport::Http, "gone").await;
    let a = Client::connect(&addr, Transport::Http, Some(&ann.token)).await.unwrap();
    let b = Client::connect(&addr, Transport::Http, Some(&bob.token)).await.unwrap();
    let gid = conv_id(&group(&a, pb::ConversationKind::Group, "Ported", &[&bob, &gone]).await);
    // A file on a message: its record, blob use and carrier rows are ported too.
    let auth = bearer(&ann);
    let r = http_raw(&addr, "POST", "/v1/files?name=ported.bin", &[("Authorization", &auth)], &[7u8; 5000]).await;
    assert_eq!(r.status, 201);
    let file_id = r.json()["id"].as_str().unwrap().to_owned();
    let _: pb::SendMessageResponse = a
        .call(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: gid.clone(),
                client_key: "file".into(),
                text: Some(pb::TextContent {
                    attachments: vec![pb::Attachment { file_id, ..Default::default() }],
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut last = None;
    for i in 0..40 {
        last = Some(send(&a, &gid, &format!("g{i}"), &format!("group {i}")).await);
    }
    let last = last.unwrap();
    let dm: pb::CreateDirectResponse =
        a.call("ConversationService/CreateDirect", &pb::CreateDirectRequest { user_id: bob.id.clone() }).await.unwrap();
    let dm_id = conv_id(dm.conversation.as_ref().unwrap());
    send(&b, &dm_id, "d1", "hello ann").await;
    let _: pb::MarkReadResponse = b
        .call("MessageService/MarkRead", &pb::MarkReadRequest { conversation_id: gid.clone(), seq: last.seq })
        .await
        .unwrap();
    let space = create_space(&a, "Port space", true).await;
    let channel = create_channel(
        &a,
        pb::CreateChannelRequest { space_id: space.id.clone(), name: "general".into(), ..Default::default() },
    )
    .await;
    send(&a, &channel, "c1", "in the channel").await;
    // Ids handed out and then deleted must not be handed out again after the port.
    let _: pb::DeleteAccountResponse = Client::connect(&addr, Transport::Http, Some(&gone.token))
        .await
        .unwrap()
        .call("AuthService/DeleteAccount", &pb::DeleteAccountRequest { password: PASSWORD.into() })
        .await
        .unwrap();
    let before_ann = seen_by(&a, (&gid, &last.id)).await;
    let before_bob = seen_by(&b, (&gid, &last.id)).await;

    let schema = format!("port_{}_{}", std::process::id(), free_port());
    let to = ["port", "--from", dir.path().to_str().unwrap(), "--to", &pg, "--schema", &schema];
    // Not beside a running server: what it writes meanwhile would be left behind.
    let (ok, out) = run(dir.path(), &to, None).await;
    assert!(!ok && out.contains("in use by a running server"), "{out}");
    server.kill().await;
    let (ok, out) = run(dir.path(), &to, None).await;
    assert!(ok, "{out}");
    assert!(out.contains("verified") && out.contains("messages"), "{out}");
    // Never into a database that has data.
    let (ok, out) = run(dir.path(), &to, None).await;
    assert!(!ok && out.contains("not empty"), "{out}");

    let node_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let env =
        [("SWITCHBOARD_STORE".to_owned(), pg.clone()), ("SWITCHBOARD_POSTGRES__SCHEMA".to_owned(), schema.clone())];
    let node = Server::start_with(node_dir.path(), port, &env).await;
    // The same sessions: the tokens issued by the embedded server still work.
    let a = Client::connect(&addr, Transport::Http, Some(&ann.token)).await.unwrap();
    let b = Client::connect(&addr, Transport::Http, Some(&bob.token)).await.unwrap();
    assert_eq!(seen_by(&a, (&gid, &last.id)).await, before_ann);
    assert_eq!(seen_by(&b, (&gid, &last.id)).await, before_bob);
    // The logs and the ids go on from where they were.
    let next = send(&a, &gid, "after", "after the port").await;
    assert_eq!(next.seq, last.seq + 1);
    // The search index is not copied (each engine has its own); the node builds it from
    // what was ported, in the background, beside what is written now.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let r: pb::SearchMessagesResponse = b
            .call(
                "SearchService/SearchMessages",
                &pb::SearchMessagesRequest { query: "ann".into(), ..Default::default() },
            )
            .await
            .unwrap();
        if r.hits.len() == 1 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the ported messages were never indexed");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let carl = register_at(&addr, Transport::Http, "carl").await;
    let max_before = [&ann.id, &bob.id, &gone.id].iter().map(|id| id.parse::<u64>().unwrap()).max().unwrap();
    assert!(carl.id.parse::<u64>().unwrap() > max_before, "user id {} was handed out again", carl.id);
    drop(node);

    if let Ok((client, conn)) = tokio_postgres::connect(&pg, tokio_postgres::NoTls).await {
        tokio::spawn(conn);
        let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await;
    }
}
