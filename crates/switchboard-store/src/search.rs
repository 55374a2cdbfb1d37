//! Full-text search over messages: each engine's own index (SQLite FTS5, PostgreSQL
//! tsvector with GIN) holding the folded words of every text message
//! (`switchboard_core::search`), kept in the same transaction as the message, so edits and
//! deletes show at once. Messages written before the index existed (an upgrade, a port, a
//! rebuild) are indexed in steps (`index_step`) by the server in the background or by the
//! `switchboard search rebuild` command.

use switchboard_core::model::{Content, Message};
use switchboard_core::search::{Query, index_text};
use switchboard_core::{ConversationId, MessageId, UserId};

use crate::StoreResult;
use crate::backends::store_trait;
use crate::rows::{self, KIND_TEXT, MSG_COLS, first_i64};
use crate::sql::{Dialect, Tx, Value, args};

/// What to search, over which part of which conversations.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    /// The words.
    pub query: Query,
    /// The conversations to search, each from the seq the reader's view starts at.
    pub windows: Vec<(ConversationId, u64)>,
    /// Whose view: their hidden messages are left out, their mentions found.
    pub viewer: UserId,
    /// Only messages from this sender.
    pub sender: Option<UserId>,
    /// Only messages sent at or after this time (ms since the epoch).
    pub since_ms: Option<i64>,
    /// Only messages sent before this time.
    pub until_ms: Option<i64>,
    /// Only messages with attachments.
    pub with_attachments: bool,
    /// Only messages that mention the viewer (by name or @all).
    pub mentioning_viewer: bool,
    /// Only messages marked important.
    pub important_only: bool,
    /// Newest first instead of best match first.
    pub newest_first: bool,
    /// Matches to skip (paging).
    pub offset: u32,
    /// Most matches to return.
    pub limit: u32,
}

/// How far the index is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SearchIndexStatus {
    /// Every text message up to this id is indexed, and every one after `rebuild_end`.
    pub indexed_upto: i64,
    /// Messages after this id were indexed as they were written.
    pub rebuild_end: i64,
    /// Text messages waiting to be indexed.
    pub backlog: u64,
    /// The newest message id.
    pub newest: i64,
}

/// How many of the newest matches a best-match search ranks.
pub const RANKED: u32 = 1_000;

store_trait! {
    /// Full-text search.
    pub trait SearchStore {
        /// Matches of `q`, best (or newest) first, and whether more exist.
        read fn search(&self, q: &SearchQuery) -> (Vec<Message>, bool) [q = q.clone()] => search(&q);
        /// How far the index is.
        read fn search_status(&self) -> SearchIndexStatus => status();
        /// Indexes up to `limit` messages of the backlog; returns the status after.
        write fn index_step(&self, limit: u32) -> SearchIndexStatus => index_step(limit);
        /// Empties the index and puts every message in the backlog.
        write fn reset_search_index(&self) -> SearchIndexStatus => reset();
    }
}

/// The words a message is found by: its text and its attachments' alt texts.
fn searchable(content: &Content) -> Option<String> {
    let Content::Text { text, attachments, .. } = content else { return None };
    let mut all = index_text(text);
    for a in attachments.iter().filter(|a| !a.alt.is_empty()) {
        all.push(' ');
        all.push_str(&index_text(&a.alt));
    }
    (!all.trim().is_empty()).then_some(all)
}

/// Adds (or replaces) a message in the index.
pub(crate) async fn index(tx: &impl Tx, id: MessageId, content: &Content) -> StoreResult<()> {
    unindex(tx, id).await?;
    let Some(words) = searchable(content) else { return Ok(()) };
    let sql = match tx.dialect() {
        Dialect::Sqlite => "INSERT INTO message_search (rowid, body) VALUES (?1, ?2)",
        Dialect::Postgres => "INSERT INTO message_search (message_id, tsv) VALUES (?1, to_tsvector('simple', ?2))",
    };
    tx.exec(sql, args![id.raw(), &words]).await?;
    Ok(())
}

/// Takes a message out of the index.
pub(crate) async fn unindex(tx: &impl Tx, id: MessageId) -> StoreResult<()> {
    let sql = match tx.dialect() {
        Dialect::Sqlite => "DELETE FROM message_search WHERE rowid = ?1",
        Dialect::Postgres => "DELETE FROM message_search WHERE message_id = ?1",
    };
    tx.exec(sql, args![id.raw()]).await?;
    Ok(())
}

/// The engine's query text for `q`: every word, the last also as a prefix. Words are
/// letters and digits only, so quoting them is enough to keep them plain words.
fn match_text(dialect: Dialect, q: &Query) -> String {
    let words = q.words();
    let last = words.len().saturating_sub(1);
    let each = words.iter().enumerate().map(|(i, w)| match (dialect, i == last) {
        (Dialect::Sqlite, false) => format!("\"{w}\""),
        (Dialect::Sqlite, true) => format!("\"{w}\"*"),
        (Dialect::Postgres, false) => format!("'{w}'"),
        (Dialect::Postgres, true) => format!("'{w}':*"),
    });
    let joiner = if dialect == Dialect::Sqlite { " " } else { " & " };
    each.collect::<Vec<_>>().join(joiner)
}

async fn search(tx: &impl Tx, q: &SearchQuery) -> StoreResult<(Vec<Message>, bool)> {
    if q.windows.is_empty() || q.limit == 0 {
        return Ok((Vec::new(), false));
    }
    let d = tx.dialect();
    let (from, matches, rank, id) = match d {
        Dialect::Sqlite => {
            ("message_search s JOIN messages msg ON msg.id = s.rowid", "message_search MATCH ?1", "s.rank", "s.rowid")
        }
        Dialect::Postgres => (
            "message_search s JOIN messages msg ON msg.id = s.message_id",
            "s.tsv @@ to_tsquery('simple', ?1)",
            // Normalised by the message's length (1 + log), as bm25 is.
            "-ts_rank(s.tsv, to_tsquery('simple', ?1), 1)",
            "msg.id",
        ),
    };
    let windows = match d {
        Dialect::Sqlite => {
            "(SELECT a.value AS c, b.value AS f FROM json_each(?2) a JOIN json_each(?3) b ON b.key = a.key) w"
        }
        Dialect::Postgres => "unnest(CAST(?2 AS BIGINT[]), CAST(?3 AS BIGINT[])) AS w(c, f)",
    };
    let mut cond = format!(
        "{matches} AND msg.kind = {KIND_TEXT} AND msg.created_at >= ?5 AND msg.created_at < ?6 \
         AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = ?7 AND h.message_id = msg.id) \
         AND (?4 = 0 OR msg.sender_id = ?4)"
    );
    if q.with_attachments {
        cond.push_str(
            " AND EXISTS (SELECT 1 FROM message_files f WHERE f.conversation_id = msg.conversation_id AND f.seq = msg.seq)",
        );
    }
    if q.important_only {
        cond.push_str(" AND msg.important");
    }
    if q.mentioning_viewer {
        cond.push_str(
            " AND (msg.mentions_all OR EXISTS (SELECT 1 FROM mentions x WHERE x.user_id = ?7 \
             AND x.conversation_id = msg.conversation_id AND x.seq = msg.seq))",
        );
    }
    cond.push_str(&format!(" AND {id} >= ?10"));
    let order = if q.newest_first { format!("{id} DESC") } else { format!("{rank}, {id} DESC") };
    // The matches are ranked on their id and score alone; only the page's messages are
    // read whole (sorting every match with its content costs as much as the rest).
    let sql = format!(
        "SELECT {MSG_COLS} FROM (SELECT {id} AS hit_id, {rank} AS hit_rank FROM {from} \
         JOIN {windows} ON w.c = msg.conversation_id AND msg.seq >= w.f \
         WHERE {cond} ORDER BY {order} LIMIT ?8 OFFSET ?9) hits JOIN messages msg ON msg.id = hits.hit_id \
         ORDER BY {outer}",
        outer = if q.newest_first { "msg.id DESC" } else { "hits.hit_rank, msg.id DESC" },
    );
    let text = match_text(d, &q.query);
    let convs: Vec<i64> = q.windows.iter().map(|(c, _)| c.raw()).collect();
    let froms: Vec<i64> = q.windows.iter().map(|(_, f)| i64::try_from(*f).unwrap_or(i64::MAX)).collect();
    let (sender, since, until) =
        (q.sender.map_or(0, UserId::raw), q.since_ms.unwrap_or(i64::MIN), q.until_ms.unwrap_or(i64::MAX));
    // ?1-?7 are the query and its filters, ?8-?10 the page and the cutoff.
    let bind = |limit: u64, offset: u64, cutoff: i64| -> [Value<'_>; 10] {
        [
            Value::from(&text),
            Value::from(convs.as_slice()),
            Value::from(froms.as_slice()),
            Value::from(sender),
            Value::from(since),
            Value::from(until),
            Value::from(q.viewer.raw()),
            Value::from(limit),
            Value::from(offset),
            Value::from(cutoff),
        ]
    };
    // Best match first scores only the newest RANKED matches: the engine scores every
    // match it ranks, and a common word is in thousands of messages. The newest matches
    // are found on the index's id order, which costs next to nothing.
    let cutoff = if q.newest_first {
        i64::MIN
    } else {
        let sql = format!(
            "SELECT {id} AS hit_id FROM {from} JOIN {windows} ON w.c = msg.conversation_id AND msg.seq >= w.f \
             WHERE {cond} ORDER BY {id} DESC LIMIT ?8 OFFSET ?9"
        );
        let a = bind(1, u64::from(RANKED - 1), i64::MIN);
        tx.one(&sql, &a, |r| r.i64("hit_id")).await?.unwrap_or(i64::MIN)
    };
    let a = bind(u64::from(q.limit) + 1, u64::from(q.offset), cutoff);
    let mut out = tx.all(&sql, &a, rows::message).await?;
    let more = out.len() > q.limit as usize;
    out.truncate(q.limit as usize);
    rows::attach_reactions(tx, &mut out, Some(q.viewer)).await?;
    Ok((out, more))
}

async fn state(tx: &impl Tx) -> StoreResult<Option<(i64, i64)>> {
    let sql = "SELECT rebuilt_upto, rebuild_end FROM search_index WHERE id = 1";
    tx.one(sql, args![], |r| Ok((r.i64("rebuilt_upto")?, r.i64("rebuild_end")?))).await
}

async fn newest(tx: &impl Tx) -> StoreResult<i64> {
    Ok(tx.one("SELECT COALESCE(MAX(id), 0) FROM messages", args![], first_i64).await?.unwrap_or(0))
}

async fn status(tx: &impl Tx) -> StoreResult<SearchIndexStatus> {
    let newest = newest(tx).await?;
    let (upto, end) = state(tx).await?.unwrap_or((0, newest));
    let sql = format!("SELECT COUNT(*) FROM messages WHERE id > ?1 AND id <= ?2 AND kind = {KIND_TEXT}");
    let backlog = tx.one(&sql, args![upto, end], first_i64).await?.unwrap_or(0).max(0) as u64;
    Ok(SearchIndexStatus { indexed_upto: if backlog == 0 { newest } else { upto }, rebuild_end: end, backlog, newest })
}

async fn index_step(tx: &impl Tx, limit: u32) -> StoreResult<SearchIndexStatus> {
    // Nodes stepping at once take turns on the state row.
    tx.lock_row("search_index", 1).await?;
    let (upto, end) = match state(tx).await? {
        Some(s) => s,
        None => {
            let end = newest(tx).await?;
            tx.exec("INSERT INTO search_index (id, rebuilt_upto, rebuild_end) VALUES (1, 0, ?1)", args![end]).await?;
            (0, end)
        }
    };
    if upto < end {
        let sql = format!(
            "SELECT {MSG_COLS} FROM messages msg WHERE msg.id > ?1 AND msg.id <= ?2 AND msg.kind = {KIND_TEXT} \
             ORDER BY msg.id LIMIT ?3"
        );
        let batch = tx.all(&sql, args![upto, end, limit], rows::message).await?;
        for m in &batch {
            index(tx, m.id, &m.content).await?;
        }
        let reached = if batch.len() < limit as usize { end } else { batch.last().map_or(end, |m| m.id.raw()) };
        tx.exec("UPDATE search_index SET rebuilt_upto = ?1 WHERE id = 1", args![reached]).await?;
    }
    status(tx).await
}

async fn reset(tx: &impl Tx) -> StoreResult<SearchIndexStatus> {
    tx.lock_row("search_index", 1).await?;
    let sql = match tx.dialect() {
        Dialect::Sqlite => "INSERT INTO message_search (message_search) VALUES ('delete-all')",
        Dialect::Postgres => "DELETE FROM message_search",
    };
    tx.exec(sql, args![]).await?;
    let end = newest(tx).await?;
    tx.exec("DELETE FROM search_index", args![]).await?;
    tx.exec("INSERT INTO search_index (id, rebuilt_upto, rebuild_end) VALUES (1, 0, ?1)", args![end]).await?;
    status(tx).await
}
