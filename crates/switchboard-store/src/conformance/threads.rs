//! Threads, service posts, batch reads and sender statistics.

use switchboard_core::ConversationId;
use switchboard_core::model::{Content, ConversationKind, MemberRole, ServiceAction, ServiceContent};

use super::{group, text, users};
use crate::{HistoryDirection, NewConversation, Store};

/// A thread per root message; listing by activity, filtered by roots.
pub async fn threads_are_unique_per_root_and_listed_by_activity<S: Store>(s: &S) {
    let ids = users(s, &["t0", "t1"]).await;
    let parent = group(s, ConversationKind::Group, ids[0], &ids[1..]).await;
    let mut roots = Vec::new();
    for i in 0..2 {
        roots.push(s.append_message(text(parent, ids[0], "root", None), 10 + i).await.unwrap().event.message.id);
    }
    let mut threads = Vec::new();
    for (i, root) in roots.iter().enumerate() {
        let mut new =
            NewConversation::new(ConversationKind::Thread, "t".into(), String::new(), ids[1], vec![], 20 + i as i64);
        new.parent = Some((parent, *root));
        let created = s.create_conversation(new.clone()).await.unwrap();
        assert!(created.created);
        assert_eq!(created.conversation.parent, Some((parent, *root)));
        assert_eq!(s.member(created.conversation.id, ids[1]).await.unwrap().unwrap().role, MemberRole::Member);
        new.creator = ids[0];
        let again = s.create_conversation(new).await.unwrap();
        assert!(!again.created, "one thread per root");
        assert_eq!(again.conversation.id, created.conversation.id);
        threads.push(created.conversation.id);
    }
    s.append_message(text(threads[0], ids[1], "reply", None), 100).await.unwrap();
    let listed: Vec<_> = s.threads(parent, &[], None, 10).await.unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(listed, vec![threads[0], threads[1]]);
    let first = s.threads(parent, &[], None, 1).await.unwrap();
    let cursor = (first[0].last_activity_at_ms, first[0].id);
    let rest: Vec<_> = s.threads(parent, &[], Some(cursor), 10).await.unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(rest, vec![threads[1]]);
    let only: Vec<_> = s.threads(parent, &[roots[1]], None, 10).await.unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(only, vec![threads[1]]);
    assert_eq!(s.conversation(threads[0]).await.unwrap().unwrap().last_seq, 2);
    let (page, _) = s.history(parent, ids[0], HistoryDirection::Before, 0, 10).await.unwrap();
    let shown: Vec<_> =
        page.iter().filter_map(|m| m.thread.as_ref().map(|t| (m.id, t.thread_id, t.reply_count))).collect();
    assert_eq!(shown, vec![(roots[0], threads[0], 1), (roots[1], threads[1], 0)], "history carries thread summaries");
}

/// Service messages posted directly; conversations read in a batch; a sender's message
/// count and latest messages across conversations.
pub async fn service_posts_batch_reads_and_sender_stats<S: Store>(s: &S) {
    let ids = users(s, &["p0", "p1"]).await;
    let a = group(s, ConversationKind::Group, ids[0], &ids[1..]).await;
    let b = group(s, ConversationKind::Group, ids[0], &ids[1..]).await;
    let content =
        ServiceContent { action: ServiceAction::ChannelChanged, user_ids: vec![], title: "x".into(), target_id: 42 };
    let w = s.post_service(a, ids[0], content.clone(), 5).await.unwrap();
    assert_eq!(w.conv_events[0].message.content, Content::Service(content));
    let got: Vec<_> =
        s.conversations(&[b, ConversationId::from_raw(999_999), a]).await.unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(got.len(), 2);
    assert!(got.contains(&a) && got.contains(&b));
    for (i, conv) in [a, b, a].into_iter().enumerate() {
        s.append_message(text(conv, ids[1], &format!("m{i}"), None), 10 + i as i64).await.unwrap();
    }
    s.append_message(text(a, ids[0], "other sender", None), 20).await.unwrap();
    let (count, recent) = s.sender_stats(&[(a, 0), (b, 0)], ids[1], 2).await.unwrap();
    assert_eq!(count, 3);
    let texts: Vec<_> = recent
        .iter()
        .map(|m| match &m.content {
            Content::Text { text, .. } => text.clone(),
            _ => String::new(),
        })
        .collect();
    assert_eq!(texts, vec!["m2", "m1"]);
    assert_eq!(s.sender_stats(&[(b, 0)], ids[1], 5).await.unwrap().0, 1);
    let a_last = s.conversation(a).await.unwrap().unwrap().last_seq;
    assert_eq!(s.sender_stats(&[(a, a_last - 1)], ids[1], 5).await.unwrap().0, 0, "only the window counts");
    assert_eq!(s.sender_stats(&[], ids[1], 5).await.unwrap().0, 0);
}
