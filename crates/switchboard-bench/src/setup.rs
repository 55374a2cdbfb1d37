//! Setting up users, conversations and clients for a scenario, and the timestamp that rides
//! in each benchmark message so receivers can measure send-to-deliver latency.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use futures_util::stream::{self, StreamExt};
use switchboard_client::proto as pb;
use switchboard_client::{Client, Transport};

/// A registered user.
#[derive(Debug, Clone)]
pub struct User {
    /// Id.
    pub id: String,
    /// Access token.
    pub token: String,
}

/// Microseconds since the epoch.
pub fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

/// The text of a benchmark message sent at `micros`.
pub fn stamped(micros: u64) -> String {
    format!("bench t={micros}")
}

/// The send time a benchmark message carries.
pub fn stamp_of(m: &pb::Message) -> Option<u64> {
    match &m.content {
        Some(pb::message::Content::Text(t)) => t.text.strip_prefix("bench t=")?.parse().ok(),
        _ => None,
    }
}

/// Registers `n` users named `<prefix><i>`, `concurrency` at a time.
pub async fn users(addr: &str, prefix: &str, n: usize, concurrency: usize) -> anyhow::Result<Vec<User>> {
    let results: Vec<anyhow::Result<User>> = stream::iter(0..n)
        .map(|i| async move {
            let c = Client::connect(addr, Transport::Http, None).await?;
            let r: pb::RegisterResponse = c
                .call(
                    "AuthService/Register",
                    &pb::RegisterRequest {
                        username: format!("{prefix}{i}"),
                        password: "benchmark password".into(),
                        ..Default::default()
                    },
                )
                .await
                .context("register")?;
            Ok(User { id: r.user.context("user")?.id, token: r.tokens.context("tokens")?.access_token })
        })
        .buffered(concurrency.max(1))
        .collect()
        .await;
    results.into_iter().collect()
}

/// Creates a group owned by `owner` with `members`.
pub async fn group(addr: &str, owner: &User, members: &[User]) -> anyhow::Result<String> {
    let c = Client::connect(addr, Transport::Http, Some(&owner.token)).await?;
    let mut ids: Vec<String> = members.iter().map(|m| m.id.clone()).filter(|id| *id != owner.id).collect();
    let rest = if ids.len() > 900 { ids.split_off(900) } else { Vec::new() };
    let r: pb::CreateConversationResponse = c
        .call(
            "ConversationService/CreateConversation",
            &pb::CreateConversationRequest {
                kind: pb::ConversationKind::Group as i32,
                title: "bench".into(),
                member_ids: ids,
                ..Default::default()
            },
        )
        .await?;
    let id = r.conversation.and_then(|v| v.conversation).context("conversation")?.id;
    for chunk in rest.chunks(1000) {
        let _: pb::AddMembersResponse = c
            .call(
                "ConversationService/AddMembers",
                &pb::AddMembersRequest { conversation_id: id.clone(), user_ids: chunk.to_vec() },
            )
            .await?;
    }
    Ok(id)
}

/// A direct conversation between two users.
pub async fn direct(addr: &str, a: &User, b: &User) -> anyhow::Result<String> {
    let c = Client::connect(addr, Transport::Http, Some(&a.token)).await?;
    let r: pb::CreateDirectResponse =
        c.call("ConversationService/CreateDirect", &pb::CreateDirectRequest { user_id: b.id.clone() }).await?;
    Ok(r.conversation.and_then(|v| v.conversation).context("conversation")?.id)
}

/// Sends one stamped message; returns its seq.
pub async fn send(c: &Client, conv: &str, key: String, sent_at: u64) -> anyhow::Result<u64> {
    let r: pb::SendMessageResponse = c
        .call(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: conv.to_owned(),
                client_key: key,
                text: Some(pb::TextContent { text: stamped(sent_at), entities: vec![], ..Default::default() }),
                ..Default::default()
            },
        )
        .await?;
    Ok(r.message.context("message")?.seq)
}

/// Fills a conversation with `n` messages from `senders` connections in parallel.
pub async fn fill(addr: &str, sender: &User, conv: &str, n: usize, senders: usize) -> anyhow::Result<()> {
    let per = n.div_ceil(senders.max(1));
    let mut tasks = Vec::new();
    for s in 0..senders.max(1) {
        let (addr, token, conv) = (addr.to_owned(), sender.token.clone(), conv.to_owned());
        let count = per.min(n.saturating_sub(s * per));
        tasks.push(tokio::spawn(async move {
            let c = Client::connect(&addr, Transport::WsBinary, Some(&token)).await?;
            for i in 0..count {
                send(&c, &conv, format!("fill-{conv}-{s}-{i}"), now_micros()).await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}
