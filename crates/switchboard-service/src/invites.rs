//! Invite links and join requests, for spaces and for groups and channels.
//!
//! An invite is a record of its conversation keyed by its random code; a join request is a
//! record keyed by the asking user. Deciders (space members with kick; group owners and
//! admins with the invite right) get a `join_requested` event in their user log, and the
//! asker gets `join_request_decided`.

use rand::Rng;
use switchboard_core::event::UserEventKind;
use switchboard_core::model::{Conversation, ConversationKind, MemberRole};
use switchboard_core::permissions::{self, effective_rights};
use switchboard_core::space::Permissions;
use switchboard_core::{ConversationId, UserId};
use switchboard_format::{Stored, v1};
use switchboard_store::{Expect, MembershipChange, StoreError};

use crate::spaces::{BAN, LAYOUT, json, parse};
use crate::{Principal, ServiceError, ServiceResult, Services};

const INVITE: &str = "invite";
/// A group's or channel's join policy.
const POLICY: &str = "policy";
pub(crate) const REQUEST: &str = "request";
const CODE_LEN: usize = 10;
const CODE_CHARS: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Most live invites listed.
const MAX_LISTED: u32 = 500;

/// An invite as stored (the code is the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteRecord {
    /// Channel to open after joining a space.
    pub channel_id: Option<ConversationId>,
    /// Creator.
    pub creator_id: UserId,
    /// Creation time.
    pub created_at_ms: i64,
    /// Expiry; 0 = never.
    pub expires_at_ms: i64,
    /// Most uses; 0 = unlimited.
    pub max_uses: u32,
    /// Uses so far.
    pub uses: u32,
}

/// An invite with its code and conversation.
#[derive(Debug, Clone)]
pub struct Invite {
    /// Code.
    pub code: String,
    /// The space or group.
    pub conversation_id: ConversationId,
    /// The rest.
    pub record: InviteRecord,
}

/// What an invite leads to.
#[derive(Debug, Clone)]
pub struct InvitePreview {
    /// The invite.
    pub invite: Invite,
    /// The space or group.
    pub conversation: Conversation,
    /// The caller is a member already.
    pub joined: bool,
    /// Joining needs approval.
    pub require_approval: bool,
}

/// A pending join request as stored (the user is the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// The asker's note.
    pub message: String,
    /// When.
    pub created_at_ms: i64,
}

/// A group's or channel's join policy as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    pub(crate) require_approval: bool,
}

impl Stored for InviteRecord {
    const WHAT: &'static str = "invite";
    type V1 = v1::InviteRecord;

    fn to_v1(&self) -> v1::InviteRecord {
        v1::InviteRecord {
            channel_id: self.channel_id.map(ConversationId::raw),
            creator_id: self.creator_id.raw(),
            created_at_ms: self.created_at_ms,
            expires_at_ms: self.expires_at_ms,
            max_uses: self.max_uses,
            uses: self.uses,
        }
    }

    fn from_v1(v: v1::InviteRecord) -> Self {
        Self {
            channel_id: v.channel_id.map(ConversationId::from_raw),
            creator_id: UserId::from_raw(v.creator_id),
            created_at_ms: v.created_at_ms,
            expires_at_ms: v.expires_at_ms,
            max_uses: v.max_uses,
            uses: v.uses,
        }
    }
}

impl Stored for RequestRecord {
    const WHAT: &'static str = "join request";
    type V1 = v1::RequestRecord;

    fn to_v1(&self) -> v1::RequestRecord {
        v1::RequestRecord { message: self.message.clone(), created_at_ms: self.created_at_ms }
    }

    fn from_v1(v: v1::RequestRecord) -> Self {
        Self { message: v.message, created_at_ms: v.created_at_ms }
    }
}

impl Stored for Policy {
    const WHAT: &'static str = "join policy";
    type V1 = v1::Policy;

    fn to_v1(&self) -> v1::Policy {
        v1::Policy { require_approval: self.require_approval }
    }

    fn from_v1(v: v1::Policy) -> Self {
        Self { require_approval: v.require_approval }
    }
}

/// Outcome of joining.
#[derive(Debug, Clone)]
pub struct Joined {
    /// The space or group.
    pub conversation_id: ConversationId,
    /// The channel to open.
    pub channel_id: Option<ConversationId>,
    /// A request was filed instead.
    pub pending: bool,
}

fn code() -> String {
    let mut rng = rand::thread_rng();
    (0..CODE_LEN).map(|_| CODE_CHARS[rng.gen_range(0..CODE_CHARS.len())] as char).collect()
}

fn live(r: &InviteRecord, now: i64) -> bool {
    (r.expires_at_ms == 0 || r.expires_at_ms > now) && (r.max_uses == 0 || r.uses < r.max_uses)
}

fn invite_not_found() -> ServiceError {
    ServiceError::not_found("invite")
}

impl Services {
    /// Checks that the caller may manage invites (and join requests when `requests`) of a
    /// space or group; returns the conversation.
    async fn invite_rights(&self, p: &Principal, id: ConversationId, requests: bool) -> ServiceResult<Conversation> {
        let conv = self.store().conversation(id).await?.ok_or_else(|| ServiceError::not_found("conversation"))?;
        match conv.kind {
            ConversationKind::Space => {
                let needed = if requests { Permissions::KICK } else { Permissions::CREATE_INVITES };
                self.require_space(p, id, needed).await?;
            }
            ConversationKind::Group | ConversationKind::Channel => {
                let entry = self.membership(p, id).await?;
                permissions::can_invite(conv.kind, Some(&entry.member))?;
            }
            _ => return Err(ServiceError::invalid("conversation_id", "invites lead to spaces, groups and channels")),
        }
        Ok(conv)
    }

    /// Creates an invite link.
    pub async fn create_invite(
        &self,
        p: &Principal,
        id: ConversationId,
        channel: Option<ConversationId>,
        expires_in_secs: u64,
        max_uses: u32,
    ) -> ServiceResult<Invite> {
        let conv = self.invite_rights(p, id, false).await?;
        if let Some(c) = channel {
            let ok = conv.kind == ConversationKind::Space && self.load_space(id).await?.layout.channel(c).is_some();
            if !ok {
                return Err(ServiceError::not_found("channel"));
            }
        }
        if expires_in_secs > 365 * 24 * 3600 {
            return Err(ServiceError::invalid("expires_in_secs", "at most a year"));
        }
        let now = self.now_ms();
        let record = InviteRecord {
            channel_id: channel,
            creator_id: p.user_id,
            created_at_ms: now,
            expires_at_ms: if expires_in_secs == 0 { 0 } else { now + expires_in_secs as i64 * 1000 },
            max_uses,
            uses: 0,
        };
        for _ in 0..4 {
            let code = code();
            match self.store().put_record(id, INVITE, &code, json(&record)?, Expect::Absent).await {
                Ok(_) => return Ok(Invite { code, conversation_id: id, record }),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::internal("could not draw a free invite code"))
    }

    async fn find_invite(&self, code: &str) -> ServiceResult<(Invite, u64)> {
        if code.is_empty() || code.len() > 64 {
            return Err(invite_not_found());
        }
        let r = self.store().find_record(INVITE, code).await?.ok_or_else(invite_not_found)?;
        let record: InviteRecord = parse(&r)?;
        let now = self.now_ms();
        if !live(&record, now) {
            let (reason, why) = if record.expires_at_ms != 0 && record.expires_at_ms <= now {
                ("invite_expired", "this invite has expired")
            } else {
                ("invite_used_up", "this invite has been used up")
            };
            return Err(ServiceError::precondition(why).because(reason));
        }
        Ok((Invite { code: r.key, conversation_id: r.scope, record }, r.version))
    }

    async fn needs_approval(&self, conv: &Conversation) -> ServiceResult<bool> {
        Ok(match conv.kind {
            ConversationKind::Space => self.load_space(conv.id).await?.layout.require_approval,
            _ => match self.store().record(conv.id, POLICY, "").await? {
                Some(r) => parse::<Policy>(&r)?.require_approval,
                None => false,
            },
        })
    }

    /// Sets whether joining a group or channel by link needs approval.
    pub(crate) async fn set_group_approval(&self, id: ConversationId, require_approval: bool) -> ServiceResult<()> {
        self.store().put_record(id, POLICY, "", json(&Policy { require_approval })?, Expect::Any).await?;
        Ok(())
    }

    /// What an invite leads to, without joining.
    pub async fn preview_invite(&self, p: &Principal, code: &str) -> ServiceResult<InvitePreview> {
        let (invite, _) = self.find_invite(code).await?;
        let conversation = self.store().conversation(invite.conversation_id).await?.ok_or_else(invite_not_found)?;
        if conversation.kind == ConversationKind::Space
            && self.store().record(conversation.id, LAYOUT, "").await?.is_none()
        {
            return Err(invite_not_found());
        }
        let joined = self.store().member(conversation.id, p.user_id).await?.is_some();
        let require_approval = self.needs_approval(&conversation).await?;
        Ok(InvitePreview { invite, conversation, joined, require_approval })
    }

    /// Joins through an invite, or files a join request when approval is required.
    pub async fn join_by_invite(&self, p: &Principal, code: &str, note: &str) -> ServiceResult<Joined> {
        let preview = self.preview_invite(p, code).await?;
        let id = preview.conversation.id;
        let channel_id = match preview.invite.record.channel_id {
            Some(c) => Some(c),
            None if preview.conversation.kind == ConversationKind::Space => {
                self.load_space(id).await?.layout.default_channel
            }
            None => None,
        };
        if self.store().record(id, BAN, &p.user_id.to_string()).await?.is_some() {
            return Err(ServiceError::denied("you are banned from this space"));
        }
        if preview.joined {
            return Ok(Joined { conversation_id: id, channel_id, pending: false });
        }
        if preview.require_approval {
            self.file_join_request(p, id, note).await?;
            return Ok(Joined { conversation_id: id, channel_id, pending: true });
        }
        self.use_invite(code).await?;
        self.admit_any(&preview.conversation, p.user_id).await?;
        // The invite's channel may be one the newcomer cannot read (a private channel, or
        // its permissions changed since): then they land where they can, or in the space.
        let channel_id = match channel_id {
            Some(c) if self.store().member(c, p.user_id).await?.is_some() => Some(c),
            Some(_) => match self.load_space(id).await?.layout.default_channel {
                Some(d) if self.store().member(d, p.user_id).await?.is_some() => Some(d),
                _ => None,
            },
            None => None,
        };
        Ok(Joined { conversation_id: id, channel_id, pending: false })
    }

    /// Counts one use of an invite (compare-and-set, so max_uses holds under races).
    async fn use_invite(&self, code: &str) -> ServiceResult<()> {
        for _ in 0..8 {
            let (mut invite, version) = self.find_invite(code).await?;
            invite.record.uses += 1;
            let body = json(&invite.record)?;
            match self.store().put_record(invite.conversation_id, INVITE, code, body, Expect::Version(version)).await {
                Ok(_) => return Ok(()),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict("the invite").into())
    }

    /// Adds `user` to a space (with its channels) or a group. They join themselves, also
    /// when an admin approved their request: the log says MEMBER_JOINED by the newcomer.
    async fn admit_any(&self, conv: &Conversation, user: UserId) -> ServiceResult<()> {
        if conv.kind == ConversationKind::Space {
            return self.admit(conv.id, user).await;
        }
        match self.store().change_membership(conv.id, user, MembershipChange::Join, self.now_ms()).await {
            Ok(w) => self.publish_written(w),
            Err(StoreError::AlreadyExists(_)) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    /// A space's or group's live invites.
    pub async fn list_invites(&self, p: &Principal, id: ConversationId) -> ServiceResult<Vec<Invite>> {
        self.invite_rights(p, id, false).await?;
        let now = self.now_ms();
        let mut out = Vec::new();
        for r in self.store().list_records(id, INVITE, "", MAX_LISTED).await? {
            let record: InviteRecord = parse(&r)?;
            if live(&record, now) {
                out.push(Invite { code: r.key, conversation_id: id, record });
            }
        }
        Ok(out)
    }

    /// Revokes an invite: its creator, or anyone who may create invites there.
    pub async fn revoke_invite(&self, p: &Principal, code: &str) -> ServiceResult<()> {
        let r = self.store().find_record(INVITE, code).await?.ok_or_else(invite_not_found)?;
        let record: InviteRecord = parse(&r)?;
        if record.creator_id != p.user_id {
            self.invite_rights(p, r.scope, false).await.map_err(|e| match e.code {
                switchboard_core::ErrorCode::NotFound => invite_not_found(),
                _ => e,
            })?;
        }
        self.store().delete_record(r.scope, INVITE, code).await?;
        Ok(())
    }

    /// Files a join request and tells the deciders.
    pub(crate) async fn file_join_request(&self, p: &Principal, id: ConversationId, note: &str) -> ServiceResult<()> {
        if note.chars().count() > 512 {
            return Err(ServiceError::invalid("message", "at most 512 characters"));
        }
        let record = RequestRecord { message: note.trim().to_owned(), created_at_ms: self.now_ms() };
        match self.store().put_record(id, REQUEST, &p.user_id.to_string(), json(&record)?, Expect::Absent).await {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        for decider in self.deciders(id).await? {
            let kind = UserEventKind::JoinRequested { conversation_id: id, user_id: p.user_id };
            let ev = self.store().append_user_event(decider, kind, self.now_ms()).await?;
            self.publish_user(ev);
        }
        Ok(())
    }

    async fn deciders(&self, id: ConversationId) -> ServiceResult<Vec<UserId>> {
        let conv = self.store().conversation(id).await?.ok_or_else(|| ServiceError::not_found("conversation"))?;
        if conv.kind == ConversationKind::Space {
            return self.space_deciders(id).await;
        }
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = self.store().members(id, after, 500).await?;
            for m in &page {
                if m.role != MemberRole::Member && effective_rights(m).invite {
                    out.push(m.user_id);
                }
            }
            match page.last() {
                Some(last) if page.len() == 500 => after = Some((last.joined_at_ms, last.user_id)),
                _ => return Ok(out),
            }
        }
    }

    /// Pending join requests.
    pub async fn list_join_requests(
        &self,
        p: &Principal,
        id: ConversationId,
    ) -> ServiceResult<Vec<(UserId, RequestRecord)>> {
        self.invite_rights(p, id, true).await?;
        let mut out = Vec::new();
        for r in self.store().list_records(id, REQUEST, "", MAX_LISTED).await? {
            let user = UserId::parse(&r.key, "user_id").map_err(|_| ServiceError::internal("corrupt request key"))?;
            out.push((user, parse(&r)?));
        }
        Ok(out)
    }

    /// Accepts or rejects a join request and tells the asker.
    pub async fn decide_join_request(
        &self,
        p: &Principal,
        id: ConversationId,
        user: UserId,
        accept: bool,
    ) -> ServiceResult<()> {
        let conv = self.invite_rights(p, id, true).await?;
        if !self.store().delete_record(id, REQUEST, &user.to_string()).await? {
            return Err(ServiceError::not_found("join request"));
        }
        if accept {
            self.admit_any(&conv, user).await?;
        }
        let kind = UserEventKind::JoinRequestDecided { conversation_id: id, accepted: accept };
        let ev = self.store().append_user_event(user, kind, self.now_ms()).await?;
        self.publish_user(ev);
        // Everyone who could have decided hears who did, so their lists stay in step.
        for decider in self.deciders(id).await? {
            let kind = UserEventKind::JoinRequestResolved {
                conversation_id: id,
                user_id: user,
                accepted: accept,
                decided_by: p.user_id,
            };
            let ev = self.store().append_user_event(decider, kind, self.now_ms()).await?;
            self.publish_user(ev);
        }
        Ok(())
    }
}
