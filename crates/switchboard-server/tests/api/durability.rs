//! Durability: the real binary is killed with SIGKILL mid-stream and restarted; every
//! acknowledged message is still there, in the same place, and retries stay idempotent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchboard_client::proto as pb;
use switchboard_client::{Client, Transport};

use crate::cli::{Server, free_port};
use crate::helpers::*;

pub async fn all_messages(c: &Client, conv: &str) -> Vec<pb::Message> {
    let mut out: Vec<pb::Message> = Vec::new();
    loop {
        let anchor = out.last().map_or(0, |m| m.seq);
        let page: pb::GetHistoryResponse = c
            .call(
                "MessageService/GetHistory",
                &pb::GetHistoryRequest {
                    conversation_id: conv.into(),
                    direction: pb::HistoryDirection::After as i32,
                    anchor_seq: anchor,
                    limit: 200,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        out.extend(page.messages);
        if !page.has_more {
            return out;
        }
    }
}

/// The real binary on a free port with a fresh data directory.
async fn started() -> (tempfile::TempDir, u16, String, Server) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(dir.path(), port).await;
    (dir, port, format!("127.0.0.1:{port}"), server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_message_survives_sigkill() {
    let (dir, port, addr, mut server) = started().await;
    let ann = register_at(&addr, Transport::Http, "ann").await;
    let bob = register_at(&addr, Transport::Http, "bob").await;
    let token = ann.token.clone();
    let http = Client::connect(&addr, Transport::Http, Some(&token)).await.unwrap();
    let g: pb::CreateConversationResponse = http
        .call(
            "ConversationService/CreateConversation",
            &pb::CreateConversationRequest {
                kind: pb::ConversationKind::Group as i32,
                title: "Durable".into(),
                member_ids: vec![bob.id.clone()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let gid = conv_id(g.conversation.as_ref().unwrap());

    // Eight senders, each with its own connection and many sends in a row.
    let acked: Arc<Mutex<Vec<(String, String, u64)>>> = Arc::default();
    let mut senders = Vec::new();
    for s in 0..8 {
        let (addr, token, gid, acked) = (addr.clone(), token.clone(), gid.clone(), acked.clone());
        senders.push(tokio::spawn(async move {
            let c = Client::connect(&addr, Transport::WsBinary, Some(&token)).await.unwrap();
            for i in 0..5_000 {
                let key = format!("s{s}-{i}");
                let req = pb::SendMessageRequest {
                    conversation_id: gid.clone(),
                    client_key: key.clone(),
                    text: text(&key),
                    ..Default::default()
                };
                match c.call::<_, pb::SendMessageResponse>("MessageService/SendMessage", &req).await {
                    Ok(r) => {
                        let m = r.message.unwrap();
                        acked.lock().unwrap().push((key, m.id, m.seq));
                    }
                    Err(_) => return,
                }
            }
        }));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 400 {
        assert!(tokio::time::Instant::now() < deadline, "too few messages acknowledged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().await;
    for s in senders {
        s.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();

    let _server = Server::start(dir.path(), port).await;
    let http = Client::connect(&addr, Transport::Http, Some(&token)).await.unwrap();
    let stored = all_messages(&http, &gid).await;
    let seqs: Vec<u64> = stored.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=stored.len() as u64).collect::<Vec<_>>(), "the log has a gap");
    for (key, id, seq) in &acked {
        let m = stored.iter().find(|m| &m.id == id).unwrap_or_else(|| panic!("acknowledged message {key} was lost"));
        assert_eq!(m.seq, *seq);
    }
    // A retry after the restart returns the original, not a duplicate.
    let (key, id, _) = &acked[0];
    let again: pb::SendMessageResponse = http
        .call(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: gid.clone(),
                client_key: key.clone(),
                text: text("again"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(&again.message.unwrap().id, id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_resumes_across_a_server_crash_without_losing_or_repeating_events() {
    let (dir, port, addr, mut server) = started().await;
    let ann = register_at(&addr, Transport::Http, "ann").await;
    let bob = register_at(&addr, Transport::Http, "bob").await;
    let (ann_token, bob_token) = (ann.token.clone(), bob.token.clone());
    let ann_http = Client::connect(&addr, Transport::Http, Some(&ann_token)).await.unwrap();
    let dm: pb::CreateDirectResponse = ann_http
        .call("ConversationService/CreateDirect", &pb::CreateDirectRequest { user_id: bob.id.clone() })
        .await
        .unwrap();
    let dm_id = conv_id(dm.conversation.as_ref().unwrap());

    let mut stream = switchboard_client::Resumable::new(&addr, Transport::WsBinary, &bob_token, Default::default());
    let mut texts = Vec::new();
    let expect = |texts: &mut Vec<String>, e: pb::Event| {
        if let Some(pb::event::Kind::MessageCreated(m)) = e.kind
            && let Some(pb::message::Content::Text(t)) = m.content
        {
            texts.push(t.text);
        }
    };
    for i in 0..5 {
        send(&ann_http, &dm_id, &format!("a{i}"), &format!("before {i}")).await;
    }
    while texts.len() < 5 {
        let e = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.unwrap().unwrap();
        expect(&mut texts, e);
    }
    server.kill().await;
    let _server = Server::start(dir.path(), port).await;
    let ann_http = Client::connect(&addr, Transport::Http, Some(&ann_token)).await.unwrap();
    for i in 0..5 {
        send(&ann_http, &dm_id, &format!("b{i}"), &format!("after {i}")).await;
    }
    while texts.len() < 10 {
        let e = tokio::time::timeout(Duration::from_secs(30), stream.next()).await.unwrap().unwrap();
        expect(&mut texts, e);
    }
    let want: Vec<String> = (0..5).map(|i| format!("before {i}")).chain((0..5).map(|i| format!("after {i}"))).collect();
    assert_eq!(texts, want);
    assert_eq!(stream.positions().conversations[&dm_id], 10);
}
