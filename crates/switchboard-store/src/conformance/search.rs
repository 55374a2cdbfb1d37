//! Full-text search.

use switchboard_core::model::{Content, ConversationKind, Message};
use switchboard_core::search::Query;
use switchboard_core::{ConversationId, UserId};

use super::{group, text, users};
use crate::{SearchQuery, Store};

fn query(words: &str, windows: &[(ConversationId, u64)], viewer: UserId) -> SearchQuery {
    SearchQuery {
        query: Query::parse(words).unwrap(),
        windows: windows.to_vec(),
        viewer,
        sender: None,
        since_ms: None,
        until_ms: None,
        with_attachments: false,
        mentioning_viewer: false,
        important_only: false,
        newest_first: false,
        offset: 0,
        limit: 20,
    }
}

fn bodies(ms: &[Message]) -> Vec<String> {
    ms.iter()
        .map(|m| match &m.content {
            Content::Text { text, .. } => text.clone(),
            _ => String::new(),
        })
        .collect()
}

/// Words are found folded and by prefix, in the given windows only, ranked or newest
/// first, with filters; edits and deletes show at once; hidden messages stay hidden.
pub async fn search_finds_words_in_the_windows_given<S: Store>(s: &S) {
    let ids = users(s, &["s1", "s2"]).await;
    let (me, other) = (ids[0], ids[1]);
    let a = group(s, ConversationKind::Group, me, &[other]).await;
    let b = group(s, ConversationKind::Group, other, &[]).await;
    let say = |c, u, t: &'static str, at| s.append_message(text(c, u, t, None), at);
    let m1 = say(a, me, "Crème brûlée tonight", 100).await.unwrap().event.message;
    let m2 = say(a, other, "brulee brulee brulee is best", 200).await.unwrap().event.message;
    let m3 = say(a, other, "the cafeteria opens at nine", 300).await.unwrap().event.message;
    say(b, other, "brulee in the other group", 400).await.unwrap();
    let all = [(a, 0)];

    let (hits, more) = s.search(&query("BRÛLÉE", &all, me)).await.unwrap();
    assert_eq!((bodies(&hits).len(), more), (2, false), "folded, and only in the windows given: {:?}", bodies(&hits));
    assert!(hits.iter().all(|m| m.conversation_id == a));
    let (hits, _) = s.search(&query("caf", &all, me)).await.unwrap();
    assert_eq!(bodies(&hits), ["the cafeteria opens at nine"], "the last word is a prefix");
    let (hits, _) = s.search(&query("cafeteria nine", &all, me)).await.unwrap();
    assert_eq!(hits.len(), 1, "every word must match");
    assert!(s.search(&query("cafe nine tonight", &all, me)).await.unwrap().0.is_empty());

    let mut newest = query("brulee", &all, me);
    newest.newest_first = true;
    assert_eq!(s.search(&newest).await.unwrap().0.iter().map(|m| m.id).collect::<Vec<_>>(), vec![m2.id, m1.id]);
    let mut by = query("brulee", &all, me);
    by.sender = Some(me);
    assert_eq!(s.search(&by).await.unwrap().0.iter().map(|m| m.id).collect::<Vec<_>>(), vec![m1.id]);
    let mut window = query("brulee", &all, me);
    (window.since_ms, window.until_ms) = (Some(150), Some(250));
    assert_eq!(s.search(&window).await.unwrap().0.iter().map(|m| m.id).collect::<Vec<_>>(), vec![m2.id]);
    let mut paged = query("brulee", &all, me);
    paged.limit = 1;
    let (first, more) = s.search(&paged).await.unwrap();
    assert_eq!((first.len(), more), (1, true));
    paged.offset = 1;
    let (second, more) = s.search(&paged).await.unwrap();
    assert_eq!((second.len(), more), (1, false));
    assert_ne!(first[0].id, second[0].id);

    // A window that starts later leaves the earlier messages out.
    let later = [(a, m3.seq)];
    assert!(s.search(&query("brulee", &later, me)).await.unwrap().0.is_empty());

    // Edits and deletes show at once; hidden messages only for who hid them.
    let edit = Content::Text { text: "pavlova tonight".into(), entities: vec![], attachments: vec![] };
    s.edit_message(a, m1.id, edit, (vec![], false), 500).await.unwrap();
    assert!(s.search(&query("creme", &all, me)).await.unwrap().0.is_empty(), "the old words are gone");
    assert_eq!(s.search(&query("pavlova", &all, me)).await.unwrap().0.len(), 1);
    s.delete_messages(a, &[m3.id], other, 600).await.unwrap();
    assert!(s.search(&query("cafeteria", &all, me)).await.unwrap().0.is_empty(), "deleted");
    s.hide_messages(a, me, &[m2.id], 700).await.unwrap();
    assert!(s.search(&query("best", &all, me)).await.unwrap().0.is_empty(), "hidden by me");
    assert_eq!(s.search(&query("best", &all, other)).await.unwrap().0.len(), 1, "not by them");

    // Mentions of the viewer.
    let mut mention = text(a, other, "ping about lunch", None);
    mention.mentions = vec![me];
    s.append_message(mention, 800).await.unwrap();
    s.append_message(text(a, other, "lunch for everyone else", None), 801).await.unwrap();
    let mut mine = query("lunch", &all, me);
    mine.mentioning_viewer = true;
    assert_eq!(bodies(&s.search(&mine).await.unwrap().0), ["ping about lunch"]);

    // Important messages only; they are counted among the unread too.
    let mut flagged = text(a, other, "lunch is important", None);
    flagged.important = true;
    let flagged = s.append_message(flagged, 900).await.unwrap().event.message;
    assert!(flagged.important && !flagged.silent);
    let mut only = query("lunch", &all, me);
    only.important_only = true;
    assert_eq!(bodies(&s.search(&only).await.unwrap().0), ["lunch is important"]);
    assert_eq!(s.important_unread(a, me, 0, 100).await.unwrap(), 1);
    assert_eq!(s.important_unread(a, me, flagged.seq, 100).await.unwrap(), 0, "read");
    assert_eq!(s.important_unread(a, other, 0, 100).await.unwrap(), 0, "one's own are not unread");
    assert!(s.messages(a, &[flagged.id]).await.unwrap()[0].important, "stored");
}

/// Messages written before the index (an upgrade, a rebuild) are indexed in steps, and the
/// status tells how far it is.
pub async fn the_search_index_is_rebuilt_in_steps<S: Store>(s: &S) {
    let ids = users(s, &["ix1"]).await;
    let c = group(s, ConversationKind::Group, ids[0], &[]).await;
    for i in 0..5 {
        s.append_message(text(c, ids[0], &format!("rebuild word{i}"), None), 10 + i).await.unwrap();
    }
    let w = [(c, 0)];
    assert_eq!(s.search(&query("rebuild", &w, ids[0])).await.unwrap().0.len(), 5);
    let st = s.reset_search_index().await.unwrap();
    assert_eq!(st.backlog, 5, "{st:?}");
    assert!(s.search(&query("rebuild", &w, ids[0])).await.unwrap().0.is_empty(), "emptied");
    // Written meanwhile: indexed at once, and not counted twice once the rebuild reaches it.
    s.append_message(text(c, ids[0], "rebuild fresh", None), 30).await.unwrap();
    assert_eq!(s.search(&query("rebuild", &w, ids[0])).await.unwrap().0.len(), 1);
    let st = s.index_step(3).await.unwrap();
    assert_eq!((st.backlog, st.indexed_upto < st.rebuild_end), (2, true), "{st:?}");
    let st = s.index_step(3).await.unwrap();
    assert_eq!((st.backlog, st.indexed_upto, st.newest), (0, st.newest, st.newest), "{st:?}");
    assert_eq!(s.search(&query("rebuild", &w, ids[0])).await.unwrap().0.len(), 6);
    assert_eq!(s.index_step(3).await.unwrap().backlog, 0, "a step with nothing to do");
    assert_eq!(s.search_status().await.unwrap().backlog, 0);
}

/// Best match first ranks the newest `RANKED` matches: a short message (the best match)
/// among them comes first; one older than all of them is not ranked.
pub async fn best_match_ranks_the_newest_matches<S: Store>(s: &S) {
    let ids = users(s, &["rk1"]).await;
    let c = group(s, ConversationKind::Group, ids[0], &[]).await;
    let oldest = s.append_message(text(c, ids[0], "needle", None), 1).await.unwrap().event.message;
    for i in 0..crate::search::RANKED {
        let body =
            if i == 100 { "needle".to_owned() } else { format!("needle in a long haystack of straw number {i}") };
        s.append_message(text(c, ids[0], &body, None), 2 + i64::from(i)).await.unwrap();
    }
    let (hits, more) = s.search(&query("needle", &[(c, 0)], ids[0])).await.unwrap();
    assert!(more);
    assert_eq!(bodies(&hits[..1]), ["needle"], "the short one ranks first");
    assert_ne!(hits[0].id, oldest.id, "the best match among the newest");
    let mut newest = query("needle", &[(c, 0)], ids[0]);
    newest.newest_first = true;
    assert_eq!(s.search(&newest).await.unwrap().0[0].seq, u64::from(crate::search::RANKED) + 2);
}
