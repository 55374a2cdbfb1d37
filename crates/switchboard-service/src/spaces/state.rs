//! A space as stored and the machinery every space operation shares: reading the layout
//! and a member's standing, the layout compare-and-set, channel-access reconciliation and
//! the space log's service messages.

use std::collections::{BTreeSet, HashMap};

use switchboard_core::model::{Conversation, ConversationKind, ServiceAction, ServiceContent};
use switchboard_core::space::{Actor, ChannelPlace, Permissions, SpaceLayout, SpaceMember, viewers};
use switchboard_core::{ConversationId, UserId};
use switchboard_format::{Stored, v1};
use switchboard_store::{Expect, MembershipChange, StoreError};

use crate::{Principal, ServiceError, ServiceResult, Services};

pub(crate) const LAYOUT: &str = "space";
pub(super) const MEMBER: &str = "member";
pub(crate) const BAN: &str = "ban";
pub(super) const DIRECTORY: &str = "directory";
/// Longest timeout.
pub(super) const MAX_TIMEOUT_MS: i64 = 28 * 24 * 3600 * 1000;
/// Attempts at a layout compare-and-set before giving up.
pub(super) const CAS_ATTEMPTS: usize = 8;

/// A space as one user sees it.
#[derive(Debug, Clone)]
pub struct SpaceView {
    /// The space's conversation (name, about, owner, member count).
    pub space: Conversation,
    /// Its layout.
    pub layout: SpaceLayout,
    /// The caller's standing, when a member.
    pub me: Option<SpaceMember>,
    /// Space-wide permissions of the caller.
    pub permissions: Permissions,
    /// Channels the caller may view, with their conversation and the caller's permissions.
    pub channels: Vec<ChannelView>,
}

/// A channel with the caller's permissions in it.
#[derive(Debug, Clone)]
pub struct ChannelView {
    /// Place in the layout.
    pub place: ChannelPlace,
    /// The conversation.
    pub conversation: Conversation,
    /// The caller's permissions.
    pub permissions: Permissions,
}

/// A member with their join time.
#[derive(Debug, Clone)]
pub struct SpaceMemberView {
    /// Roles and timeout.
    pub member: SpaceMember,
    /// Join time.
    pub joined_at_ms: i64,
}

/// A ban as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanRecord {
    /// Reason.
    pub reason: String,
    /// Who banned.
    pub banned_by: UserId,
    /// When.
    pub created_at_ms: i64,
}

/// Changes to a space's settings; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct SpacePatch {
    /// Name.
    pub name: Option<String>,
    /// About.
    pub about: Option<String>,
    /// Public.
    pub public: Option<bool>,
    /// Require approval.
    pub require_approval: Option<bool>,
    /// Default channel (`Some(None)` clears it).
    pub default_channel: Option<Option<ConversationId>>,
    /// The avatar: one of the caller's public image files (`Some(None)` removes it).
    pub avatar: Option<Option<switchboard_core::FileId>>,
}

/// Changes to a channel; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ChannelPatch {
    /// Name.
    pub name: Option<String>,
    /// About.
    pub about: Option<String>,
    /// Folder (0 = top level).
    pub folder_id: Option<i64>,
    /// Position.
    pub position: Option<i32>,
    /// Announcement.
    pub announcement: Option<bool>,
    /// Private.
    pub private: Option<bool>,
}

/// A new channel.
#[derive(Debug, Clone, Default)]
pub struct NewChannel {
    /// Name.
    pub name: String,
    /// About.
    pub about: String,
    /// Folder (0 = top level).
    pub folder_id: i64,
    /// Position.
    pub position: i32,
    /// Announcement.
    pub announcement: bool,
    /// Private.
    pub private: bool,
    /// Roles allowed to view a private channel.
    pub allowed_roles: Vec<i64>,
    /// Members allowed to view a private channel.
    pub allowed_users: Vec<UserId>,
}

/// A new or changed role; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct RolePatch {
    /// Name.
    pub name: Option<String>,
    /// Colour.
    pub colour: Option<u32>,
    /// Position.
    pub position: Option<i32>,
    /// Permissions.
    pub permissions: Option<Permissions>,
    /// Parents.
    pub parents: Option<Vec<i64>>,
    /// Whether anyone who may post may mention it.
    pub mentionable: Option<bool>,
}

/// A space's layout as read, with its version for the compare-and-set.
pub(crate) struct Loaded {
    pub(crate) space: Conversation,
    pub(crate) layout: SpaceLayout,
    pub(super) version: u64,
    /// When it was loaded, by the services' clock (timeouts are judged against it).
    pub(super) now_ms: i64,
}

pub(super) fn name_of(s: &str, field: &'static str, max: usize) -> ServiceResult<String> {
    let t = s.trim();
    let n = t.chars().count();
    if n == 0 || n > max {
        return Err(ServiceError::invalid(field, format!("must be 1-{max} characters")));
    }
    if t.chars().any(char::is_control) {
        return Err(ServiceError::invalid(field, "must not contain control characters"));
    }
    Ok(t.to_owned())
}

/// A record body, in the format this build writes.
pub(crate) fn json<T: Stored>(v: &T) -> ServiceResult<String> {
    Ok(switchboard_format::encode(v))
}

/// A record's value, decoded in the format the record says it is in.
pub(crate) fn parse<T: Stored>(record: &switchboard_store::Record) -> ServiceResult<T> {
    switchboard_format::decode(record.format, record.body.as_bytes())
        .map_err(|e| ServiceError::internal(format!("record {}: {e}", record.key)))
}

impl Stored for BanRecord {
    const WHAT: &'static str = "ban";
    type V1 = v1::BanRecord;

    fn to_v1(&self) -> v1::BanRecord {
        v1::BanRecord {
            reason: self.reason.clone(),
            banned_by: self.banned_by.raw(),
            created_at_ms: self.created_at_ms,
        }
    }

    fn from_v1(v: v1::BanRecord) -> Self {
        Self { reason: v.reason, banned_by: UserId::from_raw(v.banned_by), created_at_ms: v.created_at_ms }
    }
}

impl Loaded {
    /// `member` acting in this space now.
    pub(super) fn actor<'a>(&'a self, member: Option<&'a SpaceMember>) -> Actor<'a> {
        Actor { layout: &self.layout, owner: self.space.owner_id, member, now_ms: self.now_ms }
    }
}

pub(super) fn svc(action: ServiceAction, user_ids: Vec<UserId>, title: String, target_id: i64) -> ServiceContent {
    ServiceContent { action, user_ids, title, target_id }
}

pub(super) fn space_not_found() -> ServiceError {
    ServiceError::not_found("space")
}

impl Services {
    /// Reads a space and its layout; not_found for anything else.
    pub(crate) async fn load_space(&self, id: ConversationId) -> ServiceResult<Loaded> {
        let space = self.store().conversation(id).await?.filter(|c| c.kind == ConversationKind::Space);
        let space = space.ok_or_else(space_not_found)?;
        let rec = self.store().record(id, LAYOUT, "").await?.ok_or_else(space_not_found)?;
        Ok(Loaded { space, layout: parse(&rec)?, version: rec.version, now_ms: self.now_ms() })
    }

    /// A user's standing in a space; none when not a member.
    pub(crate) async fn space_member(&self, id: ConversationId, user: UserId) -> ServiceResult<Option<SpaceMember>> {
        if self.store().member(id, user).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(match self.store().record(id, MEMBER, &user.to_string()).await? {
            Some(r) => parse(&r)?,
            None => SpaceMember::new(user),
        }))
    }

    /// The space and the caller's standing; non-members get not_found.
    pub(crate) async fn as_member(&self, p: &Principal, id: ConversationId) -> ServiceResult<(Loaded, SpaceMember)> {
        let loaded = self.load_space(id).await?;
        let me = self.space_member(id, p.user_id).await?.ok_or_else(space_not_found)?;
        Ok((loaded, me))
    }

    /// Every member's standing (for recomputing channel access).
    pub(super) async fn all_members(&self, id: ConversationId) -> ServiceResult<Vec<SpaceMember>> {
        let ids = self.store().member_ids(id).await?;
        let mut records: HashMap<UserId, SpaceMember> = HashMap::new();
        for chunk in ids.chunks(500) {
            let keys: Vec<String> = chunk.iter().map(ToString::to_string).collect();
            for r in self.store().records(id, MEMBER, &keys).await? {
                let m: SpaceMember = parse(&r)?;
                records.insert(m.user_id, m);
            }
        }
        Ok(ids.into_iter().map(|u| records.remove(&u).unwrap_or_else(|| SpaceMember::new(u))).collect())
    }

    /// Brings channel membership in line with the layout for `only` (or every member):
    /// grants whoever may now view a channel, revokes whoever may no longer.
    pub(crate) async fn reconcile(&self, loaded: &Loaded, only: Option<&[SpaceMember]>) -> ServiceResult<()> {
        let id = loaded.space.id;
        let all;
        let members = match only {
            Some(m) => m,
            None => {
                all = self.all_members(id).await?;
                &all
            }
        };
        let now = self.now_ms();
        let scope: BTreeSet<UserId> = members.iter().map(|m| m.user_id).collect();
        for (channel, may_view) in viewers(&loaded.layout, loaded.space.owner_id, members, now) {
            let current: BTreeSet<UserId> =
                self.store().member_ids(channel).await?.into_iter().filter(|u| scope.contains(u)).collect();
            let wanted: BTreeSet<UserId> = may_view.into_iter().collect();
            let grant: Vec<UserId> = wanted.difference(&current).copied().collect();
            let revoke: Vec<UserId> = current.difference(&wanted).copied().collect();
            if !grant.is_empty() {
                let change = MembershipChange::Grant(grant);
                let w = self.store().change_membership(channel, loaded.space.owner_id, change, now).await?;
                self.publish_written(w);
            }
            if !revoke.is_empty() {
                self.revoke_with_threads(loaded.space.owner_id, channel, Some(&revoke), revoke.clone()).await?;
            }
        }
        Ok(())
    }

    /// Takes every channel and the space itself away from one user.
    pub(super) async fn drop_member_access(&self, loaded: &Loaded, user: UserId) -> ServiceResult<()> {
        for c in &loaded.layout.channels {
            self.revoke_with_threads(user, c.id, Some(&[user]), vec![user]).await?;
        }
        self.store().delete_record(loaded.space.id, MEMBER, &user.to_string()).await?;
        Ok(())
    }

    /// Changes the layout under a compare-and-set, retrying on concurrent changes. `f`
    /// checks permissions against the layout it is given and changes it.
    pub(super) async fn change_layout<T>(
        &self,
        p: &Principal,
        id: ConversationId,
        mut f: impl FnMut(&mut SpaceLayout, &Actor<'_>, &Conversation) -> ServiceResult<T>,
    ) -> ServiceResult<(T, Loaded)> {
        for _ in 0..CAS_ATTEMPTS {
            let (loaded, me) = self.as_member(p, id).await?;
            let mut layout = loaded.layout.clone();
            let actor = loaded.actor(Some(&me));
            let out = f(&mut layout, &actor, &loaded.space)?;
            match self.store().put_record(id, LAYOUT, "", json(&layout)?, Expect::Version(loaded.version)).await {
                Ok(version) => {
                    return Ok((out, Loaded { space: loaded.space, layout, version, now_ms: self.now_ms() }));
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict("the space's layout").into())
    }

    /// Takes a conversation and its threads away from every member (a deleted channel or
    /// space); their history stays stored but nobody can reach it.
    pub(super) async fn close_conversation(&self, actor: UserId, id: ConversationId) -> ServiceResult<()> {
        let users = self.store().member_ids(id).await?;
        self.revoke_with_threads(actor, id, None, users).await
    }

    /// Takes a channel and the threads started in it away from `users` (`only`: from
    /// these users' thread follows; `None`: from every follower): whoever may no longer
    /// read a channel must not keep receiving its threads.
    pub(super) async fn revoke_with_threads(
        &self,
        actor: UserId,
        id: ConversationId,
        only: Option<&[UserId]>,
        users: Vec<UserId>,
    ) -> ServiceResult<()> {
        self.revoke_thread_follows(actor, id, only).await?;
        let w = self.store().change_membership(id, actor, MembershipChange::Revoke(users), self.now_ms()).await?;
        self.publish_written(w);
        Ok(())
    }

    pub(super) async fn announce(
        &self,
        space: ConversationId,
        actor: UserId,
        content: ServiceContent,
    ) -> ServiceResult<()> {
        let w = self.store().post_service(space, actor, content, self.now_ms()).await?;
        self.publish_written(w);
        Ok(())
    }

    /// Builds what `user` sees of a loaded space.
    pub(crate) async fn space_view(&self, loaded: Loaded, me: Option<SpaceMember>) -> ServiceResult<SpaceView> {
        let actor = loaded.actor(me.as_ref());
        let permissions = actor.space_permissions();
        let visible: Vec<(ChannelPlace, Permissions)> = loaded
            .layout
            .channels
            .iter()
            .map(|c| (c.clone(), actor.channel_permissions(c)))
            .filter(|(_, p)| p.contains(Permissions::VIEW))
            .collect();
        let ids: Vec<ConversationId> = visible.iter().map(|(c, _)| c.id).collect();
        let mut convs: HashMap<ConversationId, Conversation> =
            self.store().conversations(&ids).await?.into_iter().map(|c| (c.id, c)).collect();
        let channels = visible
            .into_iter()
            .filter_map(|(place, permissions)| {
                let conversation = convs.remove(&place.id)?;
                Some(ChannelView { place, conversation, permissions })
            })
            .collect();
        Ok(SpaceView { space: loaded.space, layout: loaded.layout, me, permissions, channels })
    }

    pub(super) async fn set_directory(
        &self,
        id: ConversationId,
        old_name: Option<&str>,
        entry: Option<&str>,
    ) -> ServiceResult<()> {
        if let Some(old) = old_name {
            self.store().delete_record(id, DIRECTORY, &old.to_lowercase()).await?;
        }
        if let Some(name) = entry {
            self.store().put_record(id, DIRECTORY, &name.to_lowercase(), String::new(), Expect::Any).await?;
        }
        Ok(())
    }

    /// The caller's permissions in a space channel, checked against the layout (the
    /// membership row alone is not trusted); not_found without view.
    pub(crate) async fn channel_permissions(
        &self,
        p: &Principal,
        channel: ConversationId,
        space: ConversationId,
    ) -> ServiceResult<Permissions> {
        let loaded = self.load_space(space).await.map_err(|_| ServiceError::not_found("conversation"))?;
        let me = self.space_member(space, p.user_id).await?;
        let place = loaded.layout.channel(channel).ok_or_else(|| ServiceError::not_found("conversation"))?;
        let actor = loaded.actor(me.as_ref());
        let perms = actor.channel_permissions(place);
        if !perms.contains(Permissions::VIEW) {
            return Err(ServiceError::not_found("conversation"));
        }
        Ok(perms)
    }

    /// The members (with the kick permission) who decide a space's join requests.
    pub(crate) async fn space_deciders(&self, id: ConversationId) -> ServiceResult<Vec<UserId>> {
        let loaded = self.load_space(id).await?;
        Ok(self
            .all_members(id)
            .await?
            .iter()
            .filter(|m| loaded.actor(Some(m)).space_permissions().contains(Permissions::KICK))
            .map(|m| m.user_id)
            .collect())
    }

    /// Checks that the caller holds `needed` in a space (not_found for non-members).
    pub(crate) async fn require_space(
        &self,
        p: &Principal,
        id: ConversationId,
        needed: Permissions,
    ) -> ServiceResult<Loaded> {
        let (loaded, me) = self.as_member(p, id).await?;
        loaded.actor(Some(&me)).require(needed)?;
        Ok(loaded)
    }
}
