//! Conversations: create, read, list, administer, and each member's own settings.

use switchboard_core::model::{
    AdminRights, Conversation, ConversationKind, Member, MemberRole, MemberSettings, Message,
};
use switchboard_core::permissions::{self, effective_rights};
use switchboard_core::privacy::PrivacySetting;
use switchboard_core::values::{About, ClientKey, Title};
use switchboard_core::{ConversationId, UserId};
use switchboard_store::{ConversationEntry, MembershipChange, NewConversation, SettingsPatch};

use crate::{Principal, ServiceError, ServiceResult, Services};

/// A conversation as one member sees it.
#[derive(Debug, Clone)]
pub struct ConversationView {
    /// Shared state.
    pub conversation: Conversation,
    /// The member's own state.
    pub member: Member,
    /// The member's effective rights.
    pub rights: AdminRights,
    /// Unread messages.
    pub unread: u32,
    /// Unread mentions.
    pub mentions: u32,
    /// Unread messages marked important.
    pub important: u32,
    /// Latest visible message.
    pub last_message: Option<Message>,
}

/// Longest mute of a member.
const MAX_MUTE_MS: i64 = 366 * 24 * 3600 * 1000;

/// Settings of a group or channel to change; `None` leaves one alone.
#[derive(Debug, Clone, Default)]
pub struct ConversationPatch {
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub about: Option<String>,
    /// Joining by link needs an approved request.
    pub require_approval: Option<bool>,
    /// Groups: only admins post.
    pub admins_only: Option<bool>,
    /// Whether later members see earlier history.
    pub history_shared: Option<bool>,
    /// The avatar: one of the caller's public image files (`Some(None)` removes it).
    pub avatar: Option<Option<switchboard_core::FileId>>,
}

/// A group or channel to create.
#[derive(Debug, Clone)]
pub struct GroupSpec {
    /// Group or channel.
    pub kind: ConversationKind,
    /// Title.
    pub title: String,
    /// Description.
    pub about: String,
    /// Initial members besides the creator.
    pub members: Vec<UserId>,
    /// Idempotency key; empty for none.
    pub client_key: String,
    /// Whether later members see earlier history; `None` = shared.
    pub history_shared: Option<bool>,
}

impl GroupSpec {
    /// A group or channel with shared history, no description and no idempotency key.
    pub fn new(kind: ConversationKind, title: &str, members: Vec<UserId>) -> Self {
        Self {
            kind,
            title: title.to_owned(),
            about: String::new(),
            members,
            client_key: String::new(),
            history_shared: None,
        }
    }
}

/// A page of members.
#[derive(Debug, Clone)]
pub struct MemberPage {
    /// Members.
    pub members: Vec<Member>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

pub(crate) fn parse_cursor(cursor: &str) -> ServiceResult<Option<(i64, i64)>> {
    if cursor.is_empty() {
        return Ok(None);
    }
    let bad = || ServiceError::invalid("cursor", "not a cursor from a previous page");
    let (a, b) = cursor.split_once('.').ok_or_else(bad)?;
    Ok(Some((a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?)))
}

fn page_limit(limit: u32, default: u32, max: u32) -> u32 {
    if limit == 0 { default } else { limit.min(max) }
}

impl Services {
    /// The caller's membership, or not_found (non-members may not learn the conversation
    /// exists).
    pub(crate) async fn membership(&self, p: &Principal, id: ConversationId) -> ServiceResult<ConversationEntry> {
        self.store().entry(id, p.user_id).await?.ok_or_else(|| ServiceError::not_found("conversation"))
    }

    pub(crate) async fn view(&self, entry: ConversationEntry) -> ServiceResult<ConversationView> {
        let (id, me) = (entry.conversation.id, entry.member.user_id);
        let (unread, mentions) =
            self.store().counters(id, me, entry.member.read_seq, self.config().counter_cap).await?;
        let important = if unread == 0 {
            0
        } else {
            self.store().important_unread(id, me, entry.member.read_seq, self.config().counter_cap).await?
        };
        let last_message = match self.store().last_message(id, me).await? {
            Some(m) => Some(self.with_files_one(m).await?),
            None => None,
        };
        Ok(ConversationView {
            rights: effective_rights(&entry.member),
            conversation: entry.conversation,
            member: entry.member,
            unread,
            mentions,
            important,
            last_message,
        })
    }

    async fn view_of(&self, p: &Principal, id: ConversationId) -> ServiceResult<ConversationView> {
        let entry = self.membership(p, id).await?;
        self.view(entry).await
    }

    /// The direct conversation with `peer`, created on first use; with oneself, the
    /// notes-to-self conversation (its only member).
    pub async fn create_direct(&self, p: &Principal, peer: UserId) -> ServiceResult<(ConversationView, bool)> {
        self.check_open_direct(p, peer).await?;
        self.check_friendship(p, peer).await?;
        let created = self
            .store()
            .create_conversation(NewConversation {
                kind: ConversationKind::Direct,
                title: String::new(),
                about: String::new(),
                creator: p.user_id,
                members: vec![peer],
                client_key: None,
                space_id: None,
                parent: None,
                history_shared: true,
                now_ms: self.now_ms(),
            })
            .await?;
        let id = created.conversation.id;
        self.publish_written(created.written);
        Ok((self.view_of(p, id).await?, created.created))
    }

    /// Creates a group or channel owned by the caller.
    pub async fn create_conversation(&self, p: &Principal, new: GroupSpec) -> ServiceResult<ConversationView> {
        let GroupSpec { kind, title, about, members, client_key, history_shared } = new;
        let (title, about, client_key) = (title.as_str(), about.as_str(), client_key.as_str());
        if kind == ConversationKind::Direct {
            return Err(ServiceError::invalid("kind", "use CreateDirect for direct conversations"));
        }
        if !matches!(kind, ConversationKind::Group | ConversationKind::Channel) {
            return Err(ServiceError::invalid("kind", "give a group or a channel"));
        }
        let title = Title::parse(title)?;
        let about = About::parse(about)?;
        let key = if client_key.is_empty() { None } else { Some(ClientKey::parse(client_key)?.into_string()) };
        if members.len() as u64 + 1 > u64::from(self.config().max_members) {
            return Err(ServiceError::invalid("member_ids", format!("at most {} members", self.config().max_members)));
        }
        self.check_privacy(p, &members, PrivacySetting::GroupInvites).await?;
        let created = self
            .store()
            .create_conversation(NewConversation {
                kind,
                title: title.into_string(),
                about: about.into_string(),
                creator: p.user_id,
                members,
                client_key: key,
                space_id: None,
                parent: None,
                history_shared: history_shared.unwrap_or(true),
                now_ms: self.now_ms(),
            })
            .await?;
        let id = created.conversation.id;
        self.publish_written(created.written);
        self.view_of(p, id).await
    }

    /// One conversation as the caller sees it.
    pub async fn get_conversation(&self, p: &Principal, id: ConversationId) -> ServiceResult<ConversationView> {
        self.view_of(p, id).await
    }

    /// The caller's conversations by last activity, with totals over the page.
    pub async fn list_conversations(
        &self,
        p: &Principal,
        cursor: &str,
        limit: u32,
    ) -> ServiceResult<(Vec<ConversationView>, Option<String>)> {
        let limit = page_limit(limit, 50, 200);
        let after = parse_cursor(cursor)?.map(|(t, c)| (t, ConversationId::from_raw(c)));
        let entries = self.store().entries(p.user_id, after, limit).await?;
        let next = (entries.len() == limit as usize)
            .then(|| entries.last().map(|e| format!("{}.{}", e.conversation.last_activity_at_ms, e.conversation.id)))
            .flatten();
        let mut views = Vec::with_capacity(entries.len());
        for e in entries {
            views.push(self.view(e).await?);
        }
        Ok((views, next))
    }

    /// Unread and mention totals over every conversation of the caller.
    pub async fn unread_totals(&self, p: &Principal) -> ServiceResult<(u32, u32)> {
        let cap = self.config().counter_cap;
        let (mut unread, mut mentions) = (0u32, 0u32);
        let mut after = None;
        loop {
            let page = self.store().entries(p.user_id, after, 500).await?;
            for e in &page {
                let (u, m) = self.store().counters(e.conversation.id, p.user_id, e.member.read_seq, cap).await?;
                unread = unread.saturating_add(u);
                mentions = mentions.saturating_add(m);
            }
            match page.last() {
                Some(last) if page.len() == 500 => {
                    after = Some((last.conversation.last_activity_at_ms, last.conversation.id))
                }
                _ => return Ok((unread.min(cap), mentions.min(cap))),
            }
        }
    }

    /// Changes a group's or channel's settings (the edit-info right).
    pub async fn update_conversation(
        &self,
        p: &Principal,
        id: ConversationId,
        patch: ConversationPatch,
    ) -> ServiceResult<ConversationView> {
        let ConversationPatch { title, about, require_approval, admins_only, history_shared, avatar } = patch;
        let (title, about) = (title.as_deref(), about.as_deref());
        let entry = self.membership(p, id).await?;
        permissions::can_edit_info(entry.conversation.kind, Some(&entry.member))?;
        if history_shared.is_some()
            && !matches!(entry.conversation.kind, ConversationKind::Group | ConversationKind::Channel)
        {
            return Err(ServiceError::invalid("history_visibility", "only groups and channels choose it"));
        }
        let title = title.map(Title::parse).transpose()?.map(Title::into_string);
        let about = about.map(About::parse).transpose()?.map(About::into_string);
        if admins_only.is_some() && entry.conversation.kind != ConversationKind::Group {
            return Err(ServiceError::invalid(
                "admins_only",
                "only groups limit posting to admins (channels always do)",
            ));
        }
        if let Some(v) = require_approval {
            self.set_group_approval(id, v).await?;
        }
        if let Some(on) = admins_only {
            let written = self.store().set_admins_only(id, p.user_id, on, self.now_ms()).await?;
            self.publish_written(written);
        }
        if let Some(avatar) = avatar {
            if let Some(file) = avatar {
                self.check_avatar(p, file).await?;
            }
            let written = self.store().set_conversation_avatar(id, p.user_id, avatar, self.now_ms()).await?;
            self.publish_written(written);
        }
        if title.is_some() || about.is_some() || history_shared.is_some() {
            let written = self.store().update_info(id, p.user_id, title, about, history_shared, self.now_ms()).await?;
            self.publish_written(written);
        }
        self.view_of(p, id).await
    }

    /// Adds members; returns those actually added.
    pub async fn add_members(
        &self,
        p: &Principal,
        id: ConversationId,
        users: Vec<UserId>,
    ) -> ServiceResult<Vec<UserId>> {
        let entry = self.membership(p, id).await?;
        permissions::can_invite(entry.conversation.kind, Some(&entry.member))?;
        if users.is_empty() || users.len() > 1000 {
            return Err(ServiceError::invalid("user_ids", "give 1-1000 users"));
        }
        if u64::from(entry.conversation.member_count) + users.len() as u64 > u64::from(self.config().max_members) {
            return Err(ServiceError::precondition(format!(
                "a conversation holds at most {} members",
                self.config().max_members
            ))
            .because("limit_reached"));
        }
        self.check_privacy(p, &users, PrivacySetting::GroupInvites).await?;
        let written =
            self.store().change_membership(id, p.user_id, MembershipChange::Add(users), self.now_ms()).await?;
        let added = written.user_events.iter().map(|e| e.user_id).collect();
        self.publish_written(written);
        Ok(added)
    }

    /// Removes a member.
    pub async fn remove_member(&self, p: &Principal, id: ConversationId, user: UserId) -> ServiceResult<()> {
        let entry = self.membership(p, id).await?;
        let target = self.store().member(id, user).await?.ok_or_else(|| ServiceError::not_found("member"))?;
        permissions::can_remove(entry.conversation.kind, Some(&entry.member), &target)?;
        let written =
            self.store().change_membership(id, p.user_id, MembershipChange::Remove(user), self.now_ms()).await?;
        self.publish_written(written);
        self.revoke_thread_follows(p.user_id, id, Some(&[user])).await
    }

    /// Leaves a conversation.
    pub async fn leave(&self, p: &Principal, id: ConversationId) -> ServiceResult<()> {
        let entry = self.membership(p, id).await?;
        permissions::can_leave(entry.conversation.kind, Some(&entry.member), entry.conversation.member_count)?;
        let written = self.store().change_membership(id, p.user_id, MembershipChange::Leave, self.now_ms()).await?;
        self.publish_written(written);
        self.revoke_thread_follows(p.user_id, id, Some(&[p.user_id])).await
    }

    /// Mutes a member until `until_ms` (0 lifts it).
    pub async fn mute_member(
        &self,
        p: &Principal,
        id: ConversationId,
        user: UserId,
        until_ms: i64,
    ) -> ServiceResult<Member> {
        let entry = self.membership(p, id).await?;
        let target = self.store().member(id, user).await?.ok_or_else(|| ServiceError::not_found("member"))?;
        permissions::can_mute(entry.conversation.kind, Some(&entry.member), &target)?;
        let now = self.now_ms();
        if until_ms != 0 && (until_ms <= now || until_ms > now.saturating_add(MAX_MUTE_MS)) {
            return Err(ServiceError::invalid("until_ms", "give a time in the next 366 days, or 0 to lift the mute"));
        }
        let written = self.store().mute_member(id, p.user_id, user, until_ms, now).await?;
        self.publish_written(written);
        self.store().member(id, user).await?.ok_or_else(|| ServiceError::not_found("member"))
    }

    /// Dismisses a group or channel (its owner): every member leaves, nobody joins again.
    pub async fn delete_conversation(&self, p: &Principal, id: ConversationId) -> ServiceResult<()> {
        let entry = self.membership(p, id).await?;
        if !matches!(entry.conversation.kind, ConversationKind::Group | ConversationKind::Channel) {
            return Err(ServiceError::invalid(
                "conversation_id",
                "only groups and channels are dismissed this way (spaces: DeleteSpace)",
            ));
        }
        if entry.member.role != MemberRole::Owner {
            return Err(ServiceError::denied("only the owner may delete the conversation"));
        }
        let written = self.store().change_membership(id, p.user_id, MembershipChange::Dismiss, self.now_ms()).await?;
        self.publish_written(written);
        self.revoke_thread_follows(p.user_id, id, None).await
    }

    /// Hands ownership to another member.
    pub async fn transfer_ownership(&self, p: &Principal, id: ConversationId, to: UserId) -> ServiceResult<()> {
        let entry = self.membership(p, id).await?;
        permissions::can_manage_roles(entry.conversation.kind, Some(&entry.member))?;
        if to == p.user_id {
            return Err(ServiceError::invalid("user_id", "you own it already"));
        }
        let written = self
            .store()
            .change_membership(id, p.user_id, MembershipChange::TransferOwnership(to), self.now_ms())
            .await?;
        self.publish_written(written);
        Ok(())
    }

    /// Promotes, re-grants or demotes a member.
    pub async fn set_member_role(
        &self,
        p: &Principal,
        id: ConversationId,
        user: UserId,
        role: MemberRole,
        rights: AdminRights,
    ) -> ServiceResult<Member> {
        let entry = self.membership(p, id).await?;
        permissions::can_manage_roles(entry.conversation.kind, Some(&entry.member))?;
        if role == MemberRole::Owner {
            return Err(ServiceError::invalid("role", "use TransferOwnership to change the owner"));
        }
        let written = self
            .store()
            .change_membership(id, p.user_id, MembershipChange::SetRole(user, role, rights), self.now_ms())
            .await?;
        self.publish_written(written);
        self.store().member(id, user).await?.ok_or_else(|| ServiceError::not_found("member"))
    }

    /// A page of members (members only).
    pub async fn list_members(
        &self,
        p: &Principal,
        id: ConversationId,
        cursor: &str,
        limit: u32,
    ) -> ServiceResult<MemberPage> {
        let entry = self.membership(p, id).await?;
        permissions::can_read(Some(&entry.member))?;
        let limit = page_limit(limit, 100, 500);
        let after = parse_cursor(cursor)?.map(|(t, u)| (t, UserId::from_raw(u)));
        let members = self.store().members(id, after, limit).await?;
        let next_cursor = (members.len() == limit as usize)
            .then(|| members.last().map(|m| format!("{}.{}", m.joined_at_ms, m.user_id)))
            .flatten();
        Ok(MemberPage { members, next_cursor })
    }

    /// Changes the caller's own settings and tells their other devices.
    pub async fn update_member_settings(
        &self,
        p: &Principal,
        id: ConversationId,
        patch: SettingsPatch,
    ) -> ServiceResult<MemberSettings> {
        if let Some(d) = &patch.draft
            && d.chars().count() > self.config().max_message_chars
        {
            return Err(ServiceError::invalid("draft", "longer than the maximum message length"));
        }
        if patch.muted_until_ms.is_some_and(|t| t < 0) {
            return Err(ServiceError::invalid("muted_until_ms", "must not be negative"));
        }
        self.membership(p, id).await?;
        let (settings, event) = self.store().update_settings(id, p.user_id, patch, self.now_ms()).await?;
        self.publish_user(event);
        Ok(settings)
    }
}
