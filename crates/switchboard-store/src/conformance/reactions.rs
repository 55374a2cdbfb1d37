//! Reactions and pins.

use switchboard_core::event::ConvEventKind;
use switchboard_core::model::{Content, ConversationKind, Reaction, ServiceAction};
use switchboard_core::{MessageId, UserId};

use super::{group, text, users};
use crate::{HistoryDirection, MembershipChange, Reacted, ReactionChange, Store, StoreError};

fn counts(rs: &[Reaction]) -> Vec<(&str, u32, bool)> {
    rs.iter().map(|r| (r.emoji.as_str(), r.count, r.mine)).collect()
}

/// Reactions are idempotent per member and emoji, counted per emoji in first-use order,
/// marked as the reader's own, logged as events with the emoji, limited in distinct emoji
/// per message, listed by who and when, and forgotten with a deleted message.
pub async fn reactions_count_once_per_member_and_are_logged<S: Store>(s: &S) {
    let ids = users(s, &["r1", "r2", "r3"]).await;
    let c = group(s, ConversationKind::Group, ids[0], &ids[1..]).await;
    let m = s.append_message(text(c, ids[0], "react to me", None), 10).await.unwrap().event.message;
    let react = |u: UserId, e: &'static str, add: bool, at: i64| {
        s.react(c, m.id, ReactionChange { user: u, emoji: e.into(), add }, 2, at)
    };
    let thumbs_up = |u: UserId| ReactionChange { user: u, emoji: "👍".into(), add: true };

    let Reacted::Changed(ev) = react(ids[1], "👍", true, 20).await.unwrap() else { panic!("first add changes") };
    assert_eq!((ev.kind, ev.reaction.as_deref(), ev.seq), (ConvEventKind::ReactionAdded, Some("👍"), 3));
    assert_eq!(counts(&ev.message.reactions), vec![("👍", 1, false)], "events carry counts, never `mine`");
    assert!(matches!(react(ids[1], "👍", true, 21).await.unwrap(), Reacted::Unchanged), "adding twice");
    assert!(matches!(react(ids[2], "👍", true, 22).await.unwrap(), Reacted::Changed(_)));
    assert!(matches!(react(ids[2], "🎉", true, 23).await.unwrap(), Reacted::Changed(_)));
    assert!(matches!(react(ids[0], "🚀", true, 24).await.unwrap(), Reacted::LimitReached), "a third emoji");
    assert!(matches!(react(ids[0], "🎉", true, 25).await.unwrap(), Reacted::Changed(_)), "a known one is fine");

    let (page, _) = s.history(c, ids[2], HistoryDirection::Before, 0, 10).await.unwrap();
    let mine = page.iter().find(|x| x.id == m.id).unwrap();
    assert_eq!(counts(&mine.reactions), vec![("👍", 2, true), ("🎉", 2, true)]);
    let seen = s.messages_seen_by(c, &[m.id], ids[0]).await.unwrap();
    assert_eq!(counts(&seen[0].reactions), vec![("👍", 2, false), ("🎉", 2, true)]);
    assert_eq!(counts(&s.messages(c, &[m.id]).await.unwrap()[0].reactions), vec![("👍", 2, false), ("🎉", 2, false)]);

    let who = s.reactors(m.id, None, None, 10).await.unwrap();
    let order: Vec<_> = who.iter().map(|r| (r.user_id, r.emoji.as_str(), r.at_ms)).collect();
    assert_eq!(order, vec![(ids[1], "👍", 20), (ids[2], "👍", 22), (ids[2], "🎉", 23), (ids[0], "🎉", 25)]);
    let page2 = s.reactors(m.id, None, Some((22, ids[2])), 2).await.unwrap();
    assert_eq!(page2.iter().map(|r| r.at_ms).collect::<Vec<_>>(), vec![23, 25]);
    let thumbs = s.reactors(m.id, Some("👍".into()), None, 10).await.unwrap();
    assert_eq!(thumbs.len(), 2);

    let Reacted::Changed(ev) = react(ids[1], "👍", false, 30).await.unwrap() else { panic!("remove changes") };
    assert_eq!(
        (ev.kind, counts(&ev.message.reactions)),
        (ConvEventKind::ReactionRemoved, vec![("👍", 1, false), ("🎉", 2, false)])
    );
    assert!(matches!(react(ids[1], "👍", false, 31).await.unwrap(), Reacted::Unchanged), "removing twice");
    react(ids[2], "👍", false, 32).await.unwrap();
    assert!(matches!(react(ids[0], "🚀", true, 33).await.unwrap(), Reacted::Changed(_)), "room again for one");

    let log = s.conv_events(c, 2, 100).await.unwrap();
    let kinds: Vec<_> = log.iter().map(|e| (e.kind, e.reaction.as_deref())).collect();
    assert_eq!(kinds[0], (ConvEventKind::ReactionAdded, Some("👍")));
    assert_eq!(kinds.last().copied(), Some((ConvEventKind::ReactionAdded, Some("🚀"))));
    assert_eq!(counts(&log[0].message.reactions), vec![("🎉", 2, false), ("🚀", 1, false)], "catch-up: as it is now");
    let conv = s.conversation(c).await.unwrap().unwrap();
    assert!(conv.last_activity_at_ms < 20, "reactions do not move a conversation up the list");

    s.delete_messages(c, &[m.id], ids[0], 40).await.unwrap();
    assert!(s.messages(c, &[m.id]).await.unwrap()[0].reactions.is_empty());
    assert!(s.reactors(m.id, None, None, 10).await.unwrap().is_empty());
    assert!(matches!(react(ids[1], "👍", true, 41).await, Err(StoreError::NotFound(_))), "deleted: gone");
    assert!(matches!(
        s.react(c, MessageId::from_raw(999_999), thumbs_up(ids[1]), 2, 42).await,
        Err(StoreError::NotFound(_))
    ));
    let first = s.history(c, ids[0], HistoryDirection::After, 0, 1).await.unwrap().0;
    assert!(
        matches!(s.react(c, first[0].id, thumbs_up(ids[1]), 2, 43).await, Err(StoreError::FailedPrecondition(_))),
        "service messages take none"
    );
}

/// Pins are set once, record a service message naming the message, point the conversation
/// at its latest pin, list newest first with paging, and go with a deleted message.
pub async fn pins_are_listed_latest_first_and_follow_deletes<S: Store>(s: &S) {
    let ids = users(s, &["p1", "p2"]).await;
    let c = group(s, ConversationKind::Group, ids[0], &ids[1..]).await;
    let mut ms = Vec::new();
    for (i, body) in ["one", "two", "three"].iter().enumerate() {
        ms.push(s.append_message(text(c, ids[0], body, None), 10 + i as i64).await.unwrap().event.message);
    }
    let ev = s.set_pin(c, ms[0].id, ids[1], true, 20).await.unwrap().expect("pinned");
    let Content::Service(sc) = &ev.message.content else { panic!("a service message") };
    assert_eq!((sc.action, sc.target_id, ev.message.sender_id), (ServiceAction::MessagePinned, ms[0].id.raw(), ids[1]));
    assert!(s.set_pin(c, ms[0].id, ids[1], true, 21).await.unwrap().is_none(), "pinning twice");
    s.set_pin(c, ms[2].id, ids[0], true, 22).await.unwrap().unwrap();
    s.set_pin(c, ms[1].id, ids[0], true, 23).await.unwrap().unwrap();
    assert_eq!(s.conversation(c).await.unwrap().unwrap().pinned_message, Some(ms[1].id));

    let (all, more) = s.pins(c, ids[1], None, 10).await.unwrap();
    let order: Vec<_> = all.iter().map(|p| (p.message.id, p.pinned_by, p.pinned_at_ms)).collect();
    assert_eq!((order, more), (vec![(ms[1].id, ids[0], 23), (ms[2].id, ids[0], 22), (ms[0].id, ids[1], 20)], false));
    let (first, more) = s.pins(c, ids[1], None, 2).await.unwrap();
    assert_eq!((first.len(), more), (2, true));
    let (rest, more) = s.pins(c, ids[1], Some((22, ms[2].id)), 2).await.unwrap();
    assert_eq!((rest.iter().map(|p| p.message.id).collect::<Vec<_>>(), more), (vec![ms[0].id], false));

    let ev = s.set_pin(c, ms[1].id, ids[0], false, 30).await.unwrap().expect("unpinned");
    assert!(matches!(&ev.message.content, Content::Service(sc) if sc.action == ServiceAction::MessageUnpinned));
    assert!(s.set_pin(c, ms[1].id, ids[0], false, 31).await.unwrap().is_none(), "unpinning twice");
    assert_eq!(s.conversation(c).await.unwrap().unwrap().pinned_message, Some(ms[2].id), "back to the previous pin");
    s.delete_messages(c, &[ms[2].id], ids[0], 40).await.unwrap();
    assert_eq!(s.conversation(c).await.unwrap().unwrap().pinned_message, Some(ms[0].id), "a deleted message unpins");
    s.hide_messages(c, ids[1], &[ms[0].id], 41).await.unwrap();
    assert!(s.pins(c, ids[1], None, 10).await.unwrap().0.is_empty(), "hidden for the reader");
    assert_eq!(s.pins(c, ids[0], None, 10).await.unwrap().0.len(), 1);
    assert!(matches!(s.set_pin(c, ms[2].id, ids[0], true, 42).await, Err(StoreError::NotFound(_))));
}

/// Saved messages: once per message, logged to the saver's own log, listed latest first
/// with paging, only while the saver is still a member.
pub async fn saved_messages_are_private_logged_and_listed<S: Store>(s: &S) {
    let ids = users(s, &["sv1", "sv2"]).await;
    let c = group(s, ConversationKind::Group, ids[0], &ids[1..]).await;
    let a = s.append_message(text(c, ids[0], "keep me", None), 10).await.unwrap().event.message;
    let b = s.append_message(text(c, ids[0], "and me", None), 11).await.unwrap().event.message;
    let before = s.user_seq(ids[1]).await.unwrap();
    let ev = s.set_saved(ids[1], c, a.id, true, 20).await.unwrap().expect("saved");
    assert_eq!(ev.user_seq, before + 1);
    assert!(matches!(ev.kind, switchboard_core::event::UserEventKind::MessageSaved { saved: true, .. }));
    assert!(s.set_saved(ids[1], c, a.id, true, 21).await.unwrap().is_none(), "saving twice");
    s.set_saved(ids[1], c, b.id, true, 22).await.unwrap().unwrap();
    let (list, more) = s.saved_messages(ids[1], None, 10).await.unwrap();
    assert_eq!(
        (list.iter().map(|x| (x.message.id, x.saved_at_ms)).collect::<Vec<_>>(), more),
        (vec![(b.id, 22), (a.id, 20)], false)
    );
    let (page, more) = s.saved_messages(ids[1], None, 1).await.unwrap();
    assert_eq!((page.len(), more), (1, true));
    let (rest, _) = s.saved_messages(ids[1], Some((22, b.id)), 1).await.unwrap();
    assert_eq!(rest[0].message.id, a.id);
    assert!(s.saved_messages(ids[0], None, 10).await.unwrap().0.is_empty(), "private to the saver");
    s.set_saved(ids[1], c, b.id, false, 23).await.unwrap().expect("taken off");
    assert!(s.set_saved(ids[1], c, b.id, false, 24).await.unwrap().is_none());
    assert!(matches!(
        s.set_saved(ids[1], c, MessageId::from_raw(999_999), true, 25).await,
        Err(StoreError::NotFound(_))
    ));
    s.change_membership(c, ids[1], MembershipChange::Leave, 30).await.unwrap();
    assert!(s.saved_messages(ids[1], None, 10).await.unwrap().0.is_empty(), "gone with the membership");
}

/// Link previews are set on the message as its text was (not after an edit or delete),
/// logged as an event that does not move the conversation up the list, read back with
/// the message, dropped by an edit and a delete, and the sender's opt-out is kept.
pub async fn link_previews_follow_the_text_they_were_made_from<S: Store>(s: &S) {
    use switchboard_core::model::{Attachment, LinkPreview};
    let ids = users(s, &["lp1", "lp2"]).await;
    let c = group(s, ConversationKind::Group, ids[0], &ids[1..]).await;
    let mut new = text(c, ids[0], "see https://a.example/", None);
    new.no_link_preview = true;
    let quiet = s.append_message(new, 5).await.unwrap().event.message;
    assert!(quiet.no_link_preview && quiet.link_previews.is_empty());
    let m = s.append_message(text(c, ids[0], "see https://a.example/", None), 10).await.unwrap().event.message;
    assert!(!m.no_link_preview);
    let card = LinkPreview {
        url: "https://a.example/".into(),
        site_name: "A".into(),
        title: "A page".into(),
        description: "About A".into(),
        image: Some(Attachment::of(switchboard_core::FileId::from_raw(77))),
    };
    let ev = s.set_link_previews(c, m.id, None, vec![card.clone()], 20).await.unwrap().expect("set");
    assert_eq!((ev.kind, ev.seq), (ConvEventKind::PreviewAdded, m.seq + 1));
    assert_eq!(ev.message.link_previews, vec![card.clone()]);
    let conv = s.conversation(c).await.unwrap().unwrap();
    assert!(conv.last_activity_at_ms < 20, "a preview does not move the conversation up the list");
    let (page, _) = s.history(c, ids[1], HistoryDirection::Before, 0, 10).await.unwrap();
    assert_eq!(page.iter().find(|x| x.id == m.id).unwrap().link_previews, vec![card.clone()]);
    let log = s.conv_events(c, m.seq, 10).await.unwrap();
    assert_eq!(log.iter().map(|e| e.kind).collect::<Vec<_>>(), vec![ConvEventKind::PreviewAdded]);

    let body = Content::Text { text: "now https://b.example/".into(), entities: vec![], attachments: vec![] };
    let edited = s.edit_message(c, m.id, body, (vec![], false), 30).await.unwrap().message;
    assert!(edited.link_previews.is_empty(), "an edit drops the previews of the old text");
    assert!(s.set_link_previews(c, m.id, None, vec![card.clone()], 31).await.unwrap().is_none(), "stale");
    let ev = s.set_link_previews(c, m.id, Some(30), vec![card.clone()], 32).await.unwrap().expect("fresh");
    assert_eq!(ev.message.link_previews.len(), 1);
    s.delete_messages(c, &[m.id], ids[0], 40).await.unwrap();
    assert!(s.messages(c, &[m.id]).await.unwrap()[0].link_previews.is_empty(), "a delete drops them");
    assert!(s.set_link_previews(c, m.id, Some(30), vec![card], 41).await.unwrap().is_none(), "deleted");
}
