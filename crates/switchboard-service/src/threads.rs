//! Threads: a conversation anchored on a root message of a parent conversation, with its
//! own sequence. Its members are its followers; anyone who may read the parent may read
//! it, and posting follows the parent's rules (send_in_threads in a space channel, being a
//! member elsewhere). Posting in a thread follows it.

use switchboard_core::model::{
    Content, Conversation, ConversationKind, Message, ServiceAction, ServiceContent, ThreadSummary,
};
use switchboard_core::permissions::{Access, Standing, access};
use switchboard_core::values::Title;
use switchboard_core::{ConversationId, MessageId, UserId};
use switchboard_store::{MembershipChange, NewConversation};

use crate::{Principal, ServiceError, ServiceResult, Services};

/// A thread as the caller sees it.
#[derive(Debug, Clone)]
pub struct ThreadView {
    /// The thread's conversation.
    pub conversation: Conversation,
    /// Its summary.
    pub summary: ThreadSummary,
    /// The caller follows it.
    pub following: bool,
}

impl Services {
    /// Checks that the caller may read `conv` (a member, or — for a thread — a reader of
    /// its parent; a space channel also needs view in the layout) and says what else they
    /// may do. Non-readers get not_found.
    pub(crate) async fn access(&self, p: &Principal, conv: &Conversation) -> ServiceResult<Access> {
        let gone = || ServiceError::not_found("conversation");
        let decided = match conv.kind {
            ConversationKind::SpaceChannel => {
                let space = conv.space_id.ok_or_else(gone)?;
                access(conv.kind, Standing::SpaceChannel(self.channel_permissions(p, conv.id, space).await?))
            }
            ConversationKind::Thread => {
                let (parent_id, _) = conv.parent.ok_or_else(gone)?;
                let parent = self.store().conversation(parent_id).await?.ok_or_else(gone)?;
                if parent.kind == ConversationKind::SpaceChannel {
                    let space = parent.space_id.ok_or_else(gone)?;
                    let perms = self.channel_permissions(p, parent.id, space).await?;
                    access(conv.kind, Standing::SpaceThread(perms))
                } else {
                    let entry = self.store().entry(parent_id, p.user_id).await?;
                    let mut decided = access(conv.kind, Standing::Thread(entry.as_ref().map(|e| &e.member)));
                    // A member muted in the parent (or a parent limited to admins) is
                    // muted in its threads too.
                    if let (Ok(a), Some(e)) = (&mut decided, &entry) {
                        a.post = a.post.and(switchboard_core::permissions::may_post_now(
                            &e.conversation,
                            &e.member,
                            self.now_ms(),
                        ));
                    }
                    decided
                }
            }
            kind => {
                let entry = self.membership(p, conv.id).await?;
                access(kind, Standing::Member(Some(&entry.member)))
            }
        };
        decided.map_err(|_| gone())
    }

    /// Starts the thread on a message (or returns the existing one); the caller follows it.
    pub async fn start_thread(
        &self,
        p: &Principal,
        parent_id: ConversationId,
        root: MessageId,
        name: &str,
    ) -> ServiceResult<(ThreadView, bool)> {
        let parent =
            self.store().conversation(parent_id).await?.ok_or_else(|| ServiceError::not_found("conversation"))?;
        let access = self.access(p, &parent).await?;
        if matches!(parent.kind, ConversationKind::Thread | ConversationKind::Space) {
            return Err(ServiceError::invalid("conversation_id", "threads start on messages of chats and channels"));
        }
        if parent.kind == ConversationKind::SpaceChannel && access.post.is_err() {
            return Err(ServiceError::denied("you need the send-in-threads permission"));
        }
        let message = self.store().messages(parent_id, &[root]).await?.pop();
        let message = message.ok_or_else(|| ServiceError::not_found("message"))?;
        let default_name = match &message.content {
            Content::Text { text, .. } => text.chars().take(64).collect::<String>(),
            _ => return Err(ServiceError::precondition("threads start on text messages").because("not_a_text_message")),
        };
        let name = if name.trim().is_empty() { default_name.trim().to_owned() } else { name.to_owned() };
        let name = Title::parse(if name.is_empty() { "thread" } else { &name })?.into_string();
        let mut new = NewConversation::new(
            ConversationKind::Thread,
            name.clone(),
            String::new(),
            p.user_id,
            vec![],
            self.now_ms(),
        );
        new.parent = Some((parent_id, root));
        new.space_id = parent.space_id;
        let created = self.store().create_conversation(new).await?;
        let thread = created.conversation.clone();
        self.publish_written(created.written);
        if created.created {
            let content = ServiceContent {
                action: ServiceAction::ThreadStarted,
                user_ids: vec![p.user_id],
                title: name,
                target_id: thread.id.raw(),
            };
            let w = self.store().post_service(parent_id, p.user_id, content, self.now_ms()).await?;
            self.publish_written(w);
        } else {
            self.follow(p, thread.id, true).await?;
        }
        let following = self.store().member(thread.id, p.user_id).await?.is_some();
        let thread = self.store().conversation(thread.id).await?.unwrap_or(thread);
        Ok((ThreadView { summary: ThreadSummary::of(&thread), conversation: thread, following }, created.created))
    }

    /// A conversation's threads by latest activity.
    pub async fn list_threads(
        &self,
        p: &Principal,
        parent_id: ConversationId,
        cursor: &str,
        limit: u32,
    ) -> ServiceResult<(Vec<ThreadView>, Option<String>)> {
        let parent =
            self.store().conversation(parent_id).await?.ok_or_else(|| ServiceError::not_found("conversation"))?;
        self.access(p, &parent).await?;
        let limit = if limit == 0 { 50 } else { limit.min(200) };
        let after = crate::conversations::parse_cursor(cursor)?.map(|(t, c)| (t, ConversationId::from_raw(c)));
        let threads = self.store().threads(parent_id, &[], after, limit).await?;
        let next = (threads.len() == limit as usize)
            .then(|| threads.last().map(|c| format!("{}.{}", c.last_activity_at_ms, c.id)))
            .flatten();
        let mut out = Vec::with_capacity(threads.len());
        for t in threads {
            let following = self.store().member(t.id, p.user_id).await?.is_some();
            out.push(ThreadView { summary: ThreadSummary::of(&t), conversation: t, following });
        }
        Ok((out, next))
    }

    /// Follows (or unfollows) a thread the caller may read.
    pub async fn follow(&self, p: &Principal, thread: ConversationId, follow: bool) -> ServiceResult<()> {
        let conv = self.store().conversation(thread).await?;
        let conv =
            conv.filter(|c| c.kind == ConversationKind::Thread).ok_or_else(|| ServiceError::not_found("thread"))?;
        self.access(p, &conv).await?;
        let change =
            if follow { MembershipChange::Grant(vec![p.user_id]) } else { MembershipChange::Revoke(vec![p.user_id]) };
        let w = self.store().change_membership(thread, p.user_id, change, self.now_ms()).await?;
        self.publish_written(w);
        Ok(())
    }

    /// Ends follows of the threads started in `parent`: those of `only` (users who lost
    /// the parent), or every follower (the parent is gone).
    pub(crate) async fn revoke_thread_follows(
        &self,
        actor: UserId,
        parent: ConversationId,
        only: Option<&[UserId]>,
    ) -> ServiceResult<()> {
        let now = self.now_ms();
        let mut after = None;
        loop {
            let threads = self.store().threads(parent, &[], after, 200).await?;
            for t in &threads {
                let followers = match only {
                    Some(u) => u.to_vec(),
                    None => self.store().member_ids(t.id).await?,
                };
                let w = self.store().change_membership(t.id, actor, MembershipChange::Revoke(followers), now).await?;
                self.publish_written(w);
            }
            match threads.last() {
                Some(last) if threads.len() == 200 => after = Some((last.last_activity_at_ms, last.id)),
                _ => return Ok(()),
            }
        }
    }

    /// Fills in the thread summaries of messages that have a thread.
    pub(crate) async fn with_threads(
        &self,
        id: ConversationId,
        mut messages: Vec<Message>,
    ) -> ServiceResult<Vec<Message>> {
        if messages.is_empty() {
            return Ok(messages);
        }
        let roots: Vec<MessageId> = messages.iter().map(|m| m.id).collect();
        let threads = self.store().threads(id, &roots, None, roots.len() as u32).await?;
        for t in threads {
            if let Some((_, root)) = t.parent
                && let Some(m) = messages.iter_mut().find(|m| m.id == root)
            {
                m.thread = Some(Box::new(ThreadSummary::of(&t)));
            }
        }
        Ok(messages)
    }
}
