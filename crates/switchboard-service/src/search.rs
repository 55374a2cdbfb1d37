//! Message search: which parts of which conversations a user may search, the query, and
//! the snippets; and the index's background rebuild.

use std::time::Duration;

use switchboard_core::model::{ConversationKind, Message};
use switchboard_core::search::{Query, Snippet, snippet};
use switchboard_core::{ConversationId, UserId};
use switchboard_store::{SearchIndexStatus, SearchQuery};

use crate::{Principal, ServiceError, ServiceResult, Services};

/// Most results one page returns.
const MAX_PAGE: u32 = 50;
/// How deep pages reach.
const MAX_DEPTH: u32 = 1_000;
/// Characters of a snippet.
const SNIPPET_CHARS: usize = 160;
/// Messages indexed per background step (one write transaction).
const INDEX_STEP: u32 = 500;

/// A search as asked.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// The words as typed.
    pub query: String,
    /// Only this conversation.
    pub conversation_id: Option<ConversationId>,
    /// Only from this sender.
    pub sender: Option<UserId>,
    /// Only conversations of these kinds (empty: all).
    pub kinds: Vec<ConversationKind>,
    /// Sent at or after (ms since the epoch).
    pub since_ms: Option<i64>,
    /// Sent before.
    pub until_ms: Option<i64>,
    /// Only messages with attachments.
    pub with_attachments: bool,
    /// Only messages mentioning the caller.
    pub mentions_me: bool,
    /// Only messages marked important.
    pub important_only: bool,
    /// Newest first instead of best match first.
    pub newest_first: bool,
    /// Page size.
    pub limit: u32,
    /// The previous page's cursor.
    pub cursor: String,
}

/// One result.
#[derive(Debug, Clone)]
pub struct SearchHit {
    /// The message.
    pub message: Message,
    /// Its text around the match, with the words to highlight.
    pub snippet: Snippet,
}

impl Services {
    /// The conversations `p` may search, each from where their view starts.
    async fn search_windows(
        &self,
        p: &Principal,
        kinds: &[ConversationKind],
    ) -> ServiceResult<Vec<(ConversationId, u64)>> {
        let wanted = |k: ConversationKind| k != ConversationKind::Space && (kinds.is_empty() || kinds.contains(&k));
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = self.store().entries(p.user_id, after, 500).await?;
            let Some(last) = page.last() else { break };
            after = Some((last.conversation.last_activity_at_ms, last.conversation.id));
            let full = page.len() == 500;
            for e in page {
                if !wanted(e.conversation.kind) {
                    continue;
                }
                // Space channels and threads: only where the caller may view now.
                if matches!(e.conversation.kind, ConversationKind::SpaceChannel | ConversationKind::Thread)
                    && self.access(p, &e.conversation).await.is_err()
                {
                    continue;
                }
                out.push((e.conversation.id, e.member.visible_from_seq));
            }
            if !full {
                break;
            }
        }
        Ok(out)
    }

    /// Messages `p` can see that match the request, and the next page's cursor.
    pub async fn search_messages(
        &self,
        p: &Principal,
        req: SearchRequest,
    ) -> ServiceResult<(Vec<SearchHit>, Option<String>)> {
        let query = Query::parse(&req.query)?;
        let limit = if req.limit == 0 { 20 } else { req.limit.min(MAX_PAGE) };
        let offset = match req.cursor.as_str() {
            "" => 0,
            c => c
                .parse::<u32>()
                .ok()
                .filter(|o| *o < MAX_DEPTH)
                .ok_or_else(|| ServiceError::invalid("cursor", "not a cursor from a previous page"))?,
        };
        if let (Some(since), Some(until)) = (req.since_ms, req.until_ms)
            && since >= until
        {
            return Err(ServiceError::invalid("until_ms", "must be after since_ms"));
        }
        let windows = match req.conversation_id {
            Some(id) => {
                let from = self.readable(p, id).await?;
                let kind = self.kind_of(id).await?;
                if req.kinds.is_empty() || req.kinds.contains(&kind) { vec![(id, from)] } else { Vec::new() }
            }
            None => self.search_windows(p, &req.kinds).await?,
        };
        let q = SearchQuery {
            query: query.clone(),
            windows,
            viewer: p.user_id,
            sender: req.sender,
            since_ms: req.since_ms,
            until_ms: req.until_ms,
            with_attachments: req.with_attachments,
            mentioning_viewer: req.mentions_me,
            important_only: req.important_only,
            newest_first: req.newest_first,
            offset,
            limit: limit.min(MAX_DEPTH - offset),
        };
        let started = std::time::Instant::now();
        let (mut messages, more) = self.store().search(&q).await?;
        metrics::histogram!("switchboard_search_duration_seconds").record(started.elapsed().as_secs_f64());
        self.with_files(&mut messages).await?;
        let next = offset + messages.len() as u32;
        let next = (more && next < MAX_DEPTH).then(|| next.to_string());
        let hits = messages
            .into_iter()
            .map(|m| {
                let text = match &m.content {
                    switchboard_core::model::Content::Text { text, attachments, .. } => {
                        if text.is_empty() {
                            attachments.iter().map(|a| a.alt.as_str()).collect::<Vec<_>>().join(" ")
                        } else {
                            text.clone()
                        }
                    }
                    _ => String::new(),
                };
                SearchHit { snippet: snippet(&text, &query, SNIPPET_CHARS), message: m }
            })
            .collect();
        Ok((hits, next))
    }

    /// How far the search index is (a server administrator).
    pub async fn search_index_status(&self, p: &Principal) -> ServiceResult<SearchIndexStatus> {
        Self::require_admin(p)?;
        Ok(self.store().search_status().await?)
    }

    /// Indexes what the index lacks (messages from before it), a step at a time, in the
    /// background; stops when nothing is left or the services are dropped.
    pub(crate) fn start_search_backfill(&self) {
        let weak = std::sync::Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                let Some(inner) = weak.upgrade() else { return };
                let services = Services { inner };
                match services.store().index_step(INDEX_STEP).await {
                    Ok(s) if s.backlog == 0 => return,
                    Ok(s) => tracing::debug!(backlog = s.backlog, upto = s.indexed_upto, "search index: step"),
                    Err(e) => {
                        tracing::warn!(error = %e, "search index: step failed; retrying");
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    }
                }
                drop(services);
                // Leave the writer to the traffic between steps.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
    }
}
