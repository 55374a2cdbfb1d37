//! Spaces: a conversation of kind `space` (its members and its log of changes) plus a
//! versioned layout record (roles, folders, channels, overwrites, settings) and one record
//! per member with roles or a timeout. Channels are conversations of kind
//! `space_channel`; their membership is derived from the layout — whoever may view a
//! channel is a member of it — and is brought in line after every change that can move
//! it ([`Services::reconcile`]). Reads and writes are checked against the layout itself,
//! so a channel membership that is momentarily stale never grants anything.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use switchboard_core::model::{Conversation, ConversationKind, Member, Message, ServiceAction, ServiceContent};
use switchboard_core::space::{
    Actor, ChannelPlace, EVERYONE_ROLE, Folder, MAX_CHANNELS, MAX_FOLDER_DEPTH, MAX_FOLDERS, MAX_ROLES, Overwrite,
    OverwriteTarget, Permissions, Role, SpaceLayout, SpaceMember, viewers,
};
use switchboard_core::values::{About, ClientKey, Title};
use switchboard_core::{ConversationId, UserId};
use switchboard_store::{Expect, MembershipChange, NewConversation, StoreError};

use crate::clock::now_ms;
use crate::{Principal, ServiceError, ServiceResult, Services};

pub(crate) const LAYOUT: &str = "space";
const MEMBER: &str = "member";
pub(crate) const BAN: &str = "ban";
const DIRECTORY: &str = "directory";
/// Longest timeout.
const MAX_TIMEOUT_MS: i64 = 28 * 24 * 3600 * 1000;
/// Attempts at a layout compare-and-set before giving up.
const CAS_ATTEMPTS: usize = 8;

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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
}

/// A space's layout as read, with its version for the compare-and-set.
pub(crate) struct Loaded {
    pub(crate) space: Conversation,
    pub(crate) layout: SpaceLayout,
    version: u64,
}

fn name_of(s: &str, field: &'static str, max: usize) -> ServiceResult<String> {
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

fn json<T: Serialize>(v: &T) -> ServiceResult<String> {
    serde_json::to_string(v).map_err(|e| ServiceError::internal(format!("encode record: {e}")))
}

fn parse<T: for<'de> Deserialize<'de>>(body: &str) -> ServiceResult<T> {
    serde_json::from_str(body).map_err(|e| ServiceError::internal(format!("corrupt record: {e}")))
}

fn svc(action: ServiceAction, user_ids: Vec<UserId>, title: String, target_id: i64) -> ServiceContent {
    ServiceContent { action, user_ids, title, target_id }
}

fn space_not_found() -> ServiceError {
    ServiceError::not_found("space")
}

impl Services {
    /// Reads a space and its layout; not_found for anything else.
    pub(crate) async fn load_space(&self, id: ConversationId) -> ServiceResult<Loaded> {
        let space = self.store().conversation(id).await?.filter(|c| c.kind == ConversationKind::Space);
        let space = space.ok_or_else(space_not_found)?;
        let rec = self.store().record(id, LAYOUT, "").await?.ok_or_else(space_not_found)?;
        Ok(Loaded { space, layout: parse(&rec.body)?, version: rec.version })
    }

    /// A user's standing in a space; none when not a member.
    pub(crate) async fn space_member(&self, id: ConversationId, user: UserId) -> ServiceResult<Option<SpaceMember>> {
        if self.store().member(id, user).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(match self.store().record(id, MEMBER, &user.to_string()).await? {
            Some(r) => parse(&r.body)?,
            None => SpaceMember::new(user),
        }))
    }

    /// The space and the caller's standing; non-members get not_found.
    async fn as_member(&self, p: &Principal, id: ConversationId) -> ServiceResult<(Loaded, SpaceMember)> {
        let loaded = self.load_space(id).await?;
        let me = self.space_member(id, p.user_id).await?.ok_or_else(space_not_found)?;
        Ok((loaded, me))
    }

    /// Every member's standing (for recomputing channel access).
    async fn all_members(&self, id: ConversationId) -> ServiceResult<Vec<SpaceMember>> {
        let ids = self.store().member_ids(id).await?;
        let mut records: HashMap<UserId, SpaceMember> = HashMap::new();
        for chunk in ids.chunks(500) {
            let keys: Vec<String> = chunk.iter().map(ToString::to_string).collect();
            for r in self.store().records(id, MEMBER, &keys).await? {
                let m: SpaceMember = parse(&r.body)?;
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
        let now = now_ms();
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
    async fn drop_member_access(&self, loaded: &Loaded, user: UserId) -> ServiceResult<()> {
        for c in &loaded.layout.channels {
            self.revoke_with_threads(user, c.id, Some(&[user]), vec![user]).await?;
        }
        self.store().delete_record(loaded.space.id, MEMBER, &user.to_string()).await?;
        Ok(())
    }

    /// Changes the layout under a compare-and-set, retrying on concurrent changes. `f`
    /// checks permissions against the layout it is given and changes it.
    async fn change_layout<T>(
        &self,
        p: &Principal,
        id: ConversationId,
        mut f: impl FnMut(&mut SpaceLayout, &Actor<'_>, &Conversation) -> ServiceResult<T>,
    ) -> ServiceResult<(T, Loaded)> {
        for _ in 0..CAS_ATTEMPTS {
            let (loaded, me) = self.as_member(p, id).await?;
            let mut layout = loaded.layout.clone();
            let actor =
                Actor { layout: &loaded.layout, owner: loaded.space.owner_id, member: Some(&me), now_ms: now_ms() };
            let out = f(&mut layout, &actor, &loaded.space)?;
            match self.store().put_record(id, LAYOUT, "", json(&layout)?, Expect::Version(loaded.version)).await {
                Ok(version) => return Ok((out, Loaded { space: loaded.space, layout, version })),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict("the space's layout").into())
    }

    /// Takes a conversation and its threads away from every member (a deleted channel or
    /// space); their history stays stored but nobody can reach it.
    async fn close_conversation(&self, actor: UserId, id: ConversationId) -> ServiceResult<()> {
        let users = self.store().member_ids(id).await?;
        self.revoke_with_threads(actor, id, None, users).await
    }

    /// Takes a channel and the threads started in it away from `users` (`only`: from
    /// these users' thread follows; `None`: from every follower): whoever may no longer
    /// read a channel must not keep receiving its threads.
    async fn revoke_with_threads(
        &self,
        actor: UserId,
        id: ConversationId,
        only: Option<&[UserId]>,
        users: Vec<UserId>,
    ) -> ServiceResult<()> {
        let now = now_ms();
        let mut after = None;
        loop {
            let threads = self.store().threads(id, &[], after, 200).await?;
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
                _ => break,
            }
        }
        let w = self.store().change_membership(id, actor, MembershipChange::Revoke(users), now).await?;
        self.publish_written(w);
        Ok(())
    }

    async fn announce(&self, space: ConversationId, actor: UserId, content: ServiceContent) -> ServiceResult<()> {
        let w = self.store().post_service(space, actor, content, now_ms()).await?;
        self.publish_written(w);
        Ok(())
    }

    /// Builds what `user` sees of a loaded space.
    pub(crate) async fn space_view(&self, loaded: Loaded, me: Option<SpaceMember>) -> ServiceResult<SpaceView> {
        let actor =
            Actor { layout: &loaded.layout, owner: loaded.space.owner_id, member: me.as_ref(), now_ms: now_ms() };
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

    async fn set_directory(
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

    /// Creates a space owned by the caller with a "general" channel everyone may use.
    pub async fn create_space(
        &self,
        p: &Principal,
        name: &str,
        about: &str,
        public: bool,
        client_key: &str,
    ) -> ServiceResult<SpaceView> {
        let name = Title::parse(name)?.into_string();
        let about = About::parse(about)?.into_string();
        let key = if client_key.is_empty() { None } else { Some(ClientKey::parse(client_key)?.into_string()) };
        let now = now_ms();
        let mut new = NewConversation::new(ConversationKind::Space, name.clone(), about, p.user_id, vec![], now);
        new.client_key = key;
        let created = self.store().create_conversation(new).await?;
        let id = created.conversation.id;
        self.publish_written(created.written);
        if self.store().record(id, LAYOUT, "").await?.is_none() {
            let mut layout = SpaceLayout::new(public);
            let general = self.new_channel_conversation(id, p.user_id, "general", "").await?;
            layout.channels.push(ChannelPlace {
                id: general,
                folder_id: 0,
                position: 0,
                announcement: false,
                private: false,
                overwrites: vec![],
            });
            layout.default_channel = Some(general);
            match self.store().put_record(id, LAYOUT, "", json(&layout)?, Expect::Absent).await {
                Ok(_) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
            if public {
                self.set_directory(id, None, Some(&name)).await?;
            }
        }
        self.get_space(p, id).await
    }

    async fn new_channel_conversation(
        &self,
        space: ConversationId,
        creator: UserId,
        name: &str,
        about: &str,
    ) -> ServiceResult<ConversationId> {
        let mut new = NewConversation::new(
            ConversationKind::SpaceChannel,
            name.to_owned(),
            about.to_owned(),
            creator,
            vec![],
            now_ms(),
        );
        new.space_id = Some(space);
        let created = self.store().create_conversation(new).await?;
        self.publish_written(created.written);
        Ok(created.conversation.id)
    }

    /// A space as the caller sees it: members see everything they may view; others see a
    /// public space's preview; a private space does not exist for them.
    pub async fn get_space(&self, p: &Principal, id: ConversationId) -> ServiceResult<SpaceView> {
        let loaded = self.load_space(id).await?;
        let me = self.space_member(id, p.user_id).await?;
        if me.is_none() && !loaded.layout.public {
            return Err(space_not_found());
        }
        self.space_view(loaded, me).await
    }

    /// Changes name, about and settings (manage_space).
    pub async fn update_space(&self, p: &Principal, id: ConversationId, patch: SpacePatch) -> ServiceResult<SpaceView> {
        let name = patch.name.as_deref().map(Title::parse).transpose()?.map(Title::into_string);
        let about = patch.about.as_deref().map(About::parse).transpose()?.map(About::into_string);
        let settings = patch.public.is_some() || patch.require_approval.is_some() || patch.default_channel.is_some();
        let (was_public, loaded) = self
            .change_layout(p, id, |layout, actor, _| {
                actor.require(Permissions::MANAGE_SPACE)?;
                let was = layout.public;
                if let Some(v) = patch.public {
                    layout.public = v;
                }
                if let Some(v) = patch.require_approval {
                    layout.require_approval = v;
                }
                if let Some(c) = patch.default_channel {
                    if let Some(c) = c
                        && layout.channel(c).is_none()
                    {
                        return Err(ServiceError::not_found("channel"));
                    }
                    layout.default_channel = c;
                }
                Ok(was)
            })
            .await?;
        let old_name = loaded.space.title.clone();
        if name.is_some() || about.is_some() {
            let w = self.store().update_info(id, p.user_id, name.clone(), about, now_ms()).await?;
            self.publish_written(w);
        }
        if settings {
            self.announce(id, p.user_id, svc(ServiceAction::SpaceSettingsChanged, vec![], String::new(), 0)).await?;
        }
        let new_name = name.unwrap_or_else(|| old_name.clone());
        if was_public || loaded.layout.public {
            let entry = loaded.layout.public.then_some(new_name.as_str());
            self.set_directory(id, was_public.then_some(old_name.as_str()), entry).await?;
        }
        self.get_space(p, id).await
    }

    /// Deletes a space: everyone loses its channels and the space (owner only).
    pub async fn delete_space(&self, p: &Principal, id: ConversationId) -> ServiceResult<()> {
        let (loaded, _) = self.as_member(p, id).await?;
        if loaded.space.owner_id != p.user_id {
            return Err(ServiceError::denied("only the owner may delete the space"));
        }
        self.store().delete_record(id, LAYOUT, "").await?;
        self.set_directory(id, Some(&loaded.space.title), None).await?;
        for c in loaded.layout.channels.iter().map(|c| c.id).chain([id]) {
            self.close_conversation(p.user_id, c).await?;
        }
        Ok(())
    }

    /// The caller's spaces.
    pub async fn list_my_spaces(&self, p: &Principal) -> ServiceResult<Vec<SpaceView>> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = self.store().entries(p.user_id, after, 500).await?;
            for e in &page {
                if e.conversation.kind == ConversationKind::Space
                    && let Ok(loaded) = self.load_space(e.conversation.id).await
                {
                    let me = self.space_member(e.conversation.id, p.user_id).await?;
                    out.push(self.space_view(loaded, me).await?);
                }
            }
            match page.last() {
                Some(last) if page.len() == 500 => {
                    after = Some((last.conversation.last_activity_at_ms, last.conversation.id))
                }
                _ => return Ok(out),
            }
        }
    }

    /// Public spaces whose name starts with `prefix`.
    pub async fn search_spaces(&self, p: &Principal, prefix: &str, limit: u32) -> ServiceResult<Vec<SpaceView>> {
        let limit = if limit == 0 { 20 } else { limit.min(100) };
        let mut out = Vec::new();
        for r in self.store().search_records(DIRECTORY, &prefix.trim().to_lowercase(), limit).await? {
            if let Ok(view) = self.get_space(p, r.scope).await {
                out.push(view);
            }
        }
        Ok(out)
    }

    /// Adds the caller to a space they may join (not banned), and to its channels.
    pub(crate) async fn admit(&self, space: ConversationId, user: UserId) -> ServiceResult<()> {
        if self.store().record(space, BAN, &user.to_string()).await?.is_some() {
            return Err(ServiceError::denied("you are banned from this space"));
        }
        match self.store().change_membership(space, user, MembershipChange::Join, now_ms()).await {
            Ok(w) => self.publish_written(w),
            Err(StoreError::AlreadyExists(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        let loaded = self.load_space(space).await?;
        self.reconcile(&loaded, Some(&[SpaceMember::new(user)])).await
    }

    /// Joins a public space, or files a join request when it requires approval (`true`).
    pub async fn join_space(&self, p: &Principal, id: ConversationId, note: &str) -> ServiceResult<bool> {
        let loaded = self.load_space(id).await?;
        if !loaded.layout.public {
            return Err(space_not_found());
        }
        if self.store().record(id, BAN, &p.user_id.to_string()).await?.is_some() {
            return Err(ServiceError::denied("you are banned from this space"));
        }
        if loaded.layout.require_approval && self.store().member(id, p.user_id).await?.is_none() {
            self.file_join_request(p, id, note).await?;
            return Ok(true);
        }
        self.admit(id, p.user_id).await?;
        Ok(false)
    }

    /// Leaves a space and its channels; the owner deletes the space instead.
    pub async fn leave_space(&self, p: &Principal, id: ConversationId) -> ServiceResult<()> {
        let (loaded, _) = self.as_member(p, id).await?;
        if loaded.space.owner_id == p.user_id {
            return Err(ServiceError::precondition("the owner cannot leave; delete the space instead"));
        }
        self.drop_member_access(&loaded, p.user_id).await?;
        let w = self.store().change_membership(id, p.user_id, MembershipChange::Leave, now_ms()).await?;
        self.publish_written(w);
        Ok(())
    }

    /// A page of members with roles and join time.
    pub async fn list_space_members(
        &self,
        p: &Principal,
        id: ConversationId,
        cursor: &str,
        limit: u32,
    ) -> ServiceResult<(Vec<SpaceMemberView>, Option<String>)> {
        self.as_member(p, id).await?;
        let page = self.list_members(p, id, cursor, limit).await?;
        let keys: Vec<String> = page.members.iter().map(|m| m.user_id.to_string()).collect();
        let mut records: HashMap<UserId, SpaceMember> = HashMap::new();
        for r in self.store().records(id, MEMBER, &keys).await? {
            let m: SpaceMember = parse(&r.body)?;
            records.insert(m.user_id, m);
        }
        let views = page
            .members
            .iter()
            .map(|m: &Member| SpaceMemberView {
                member: records.remove(&m.user_id).unwrap_or_else(|| SpaceMember::new(m.user_id)),
                joined_at_ms: m.joined_at_ms,
            })
            .collect();
        Ok((views, page.next_cursor))
    }

    /// A member's card: standing, join time, their message count and latest messages in
    /// the channels the caller may view.
    pub async fn member_card(
        &self,
        p: &Principal,
        id: ConversationId,
        user: UserId,
    ) -> ServiceResult<(SpaceMemberView, u64, Vec<Message>)> {
        let (loaded, me) = self.as_member(p, id).await?;
        let target = self.space_member(id, user).await?.ok_or_else(|| ServiceError::not_found("member"))?;
        let joined_at_ms = self.store().member(id, user).await?.map_or(0, |m| m.joined_at_ms);
        let actor = Actor { layout: &loaded.layout, owner: loaded.space.owner_id, member: Some(&me), now_ms: now_ms() };
        let channels: Vec<ConversationId> = loaded
            .layout
            .channels
            .iter()
            .filter(|c| actor.channel_permissions(c).contains(Permissions::VIEW))
            .map(|c| c.id)
            .collect();
        let (count, recent) = self.store().sender_stats(&channels, user, 5).await?;
        Ok((SpaceMemberView { member: target, joined_at_ms }, count, recent))
    }

    /// The caller's permissions in the space or one of its channels.
    pub async fn my_permissions(
        &self,
        p: &Principal,
        id: ConversationId,
        channel: Option<ConversationId>,
    ) -> ServiceResult<Permissions> {
        let (loaded, me) = self.as_member(p, id).await?;
        let actor = Actor { layout: &loaded.layout, owner: loaded.space.owner_id, member: Some(&me), now_ms: now_ms() };
        match channel {
            None => Ok(actor.space_permissions()),
            Some(c) => {
                let place = loaded.layout.channel(c).ok_or_else(|| ServiceError::not_found("channel"))?;
                Ok(actor.channel_permissions(place))
            }
        }
    }

    /// Creates a folder (manage_channels).
    pub async fn create_folder(
        &self,
        p: &Principal,
        id: ConversationId,
        name: &str,
        parent_id: i64,
        position: i32,
    ) -> ServiceResult<Folder> {
        let name = name_of(name, "name", 100)?;
        let (folder, _) = self
            .change_layout(p, id, |layout, actor, _| {
                actor.require(Permissions::MANAGE_CHANNELS)?;
                if layout.folders.len() >= MAX_FOLDERS {
                    return Err(ServiceError::precondition(format!("a space holds at most {MAX_FOLDERS} folders")));
                }
                let depth = layout.folder_depth(parent_id).ok_or_else(|| ServiceError::not_found("parent folder"))?;
                if depth + 1 > MAX_FOLDER_DEPTH {
                    return Err(ServiceError::precondition(format!("folders nest at most {MAX_FOLDER_DEPTH} deep")));
                }
                let folder = Folder { id: layout.allocate_id(), name: name.clone(), parent_id, position };
                layout.folders.push(folder.clone());
                Ok(folder)
            })
            .await?;
        self.announce(id, p.user_id, svc(ServiceAction::FolderChanged, vec![], folder.name.clone(), folder.id)).await?;
        Ok(folder)
    }

    /// Renames or moves a folder (manage_channels).
    pub async fn update_folder(
        &self,
        p: &Principal,
        id: ConversationId,
        folder_id: i64,
        name: Option<&str>,
        parent_id: Option<i64>,
        position: Option<i32>,
    ) -> ServiceResult<Folder> {
        let name = name.map(|n| name_of(n, "name", 100)).transpose()?;
        let (folder, _) = self
            .change_layout(p, id, |layout, actor, _| {
                actor.require(Permissions::MANAGE_CHANNELS)?;
                let idx = layout.folders.iter().position(|f| f.id == folder_id);
                let idx = idx.ok_or_else(|| ServiceError::not_found("folder"))?;
                if let Some(parent) = parent_id {
                    if parent != 0 && layout.folder(parent).is_none() {
                        return Err(ServiceError::not_found("parent folder"));
                    }
                    if layout.folder_within(parent, folder_id) {
                        return Err(ServiceError::invalid("parent_id", "a folder cannot move into itself"));
                    }
                    layout.folders[idx].parent_id = parent;
                    if layout.folder_depth(folder_id).is_none_or(|d| d > MAX_FOLDER_DEPTH) {
                        return Err(ServiceError::precondition(format!(
                            "folders nest at most {MAX_FOLDER_DEPTH} deep"
                        )));
                    }
                }
                let f = &mut layout.folders[idx];
                if let Some(n) = &name {
                    f.name = n.clone();
                }
                if let Some(pos) = position {
                    f.position = pos;
                }
                Ok(f.clone())
            })
            .await?;
        self.announce(id, p.user_id, svc(ServiceAction::FolderChanged, vec![], folder.name.clone(), folder.id)).await?;
        Ok(folder)
    }

    /// Deletes an empty folder (manage_channels).
    pub async fn delete_folder(&self, p: &Principal, id: ConversationId, folder_id: i64) -> ServiceResult<()> {
        self.change_layout(p, id, |layout, actor, _| {
            actor.require(Permissions::MANAGE_CHANNELS)?;
            layout.folder(folder_id).ok_or_else(|| ServiceError::not_found("folder"))?;
            if layout.folders.iter().any(|f| f.parent_id == folder_id)
                || layout.channels.iter().any(|c| c.folder_id == folder_id)
            {
                return Err(ServiceError::precondition("move or delete the folder's channels and folders first"));
            }
            layout.folders.retain(|f| f.id != folder_id);
            Ok(())
        })
        .await?;
        self.announce(id, p.user_id, svc(ServiceAction::FolderDeleted, vec![], String::new(), folder_id)).await
    }

    /// Creates a channel (manage_channels). A private channel is visible to the roles and
    /// members given, the creator and administrators.
    pub async fn create_channel(
        &self,
        p: &Principal,
        id: ConversationId,
        new: NewChannel,
    ) -> ServiceResult<ChannelView> {
        let name = Title::parse(&new.name)?.into_string();
        let about = About::parse(&new.about)?.into_string();
        // Check before creating the conversation; the layout write checks again.
        let (loaded, me) = self.as_member(p, id).await?;
        let actor = Actor { layout: &loaded.layout, owner: loaded.space.owner_id, member: Some(&me), now_ms: now_ms() };
        actor.require(Permissions::MANAGE_CHANNELS)?;
        let channel = self.new_channel_conversation(id, p.user_id, &name, &about).await?;
        let (_, loaded) = self
            .change_layout(p, id, |layout, actor, _| {
                actor.require(Permissions::MANAGE_CHANNELS)?;
                if layout.channels.len() >= MAX_CHANNELS {
                    return Err(ServiceError::precondition(format!("a space holds at most {MAX_CHANNELS} channels")));
                }
                if new.folder_id != 0 && layout.folder(new.folder_id).is_none() {
                    return Err(ServiceError::not_found("folder"));
                }
                let mut overwrites = Vec::new();
                if new.private {
                    for r in &new.allowed_roles {
                        layout.role(*r).ok_or_else(|| ServiceError::not_found("role"))?;
                        overwrites.push(allow_view(OverwriteTarget::Role(*r)));
                    }
                    for u in new.allowed_users.iter().chain([&p.user_id]) {
                        if !overwrites.iter().any(|o| o.target == OverwriteTarget::Member(*u)) {
                            overwrites.push(allow_view(OverwriteTarget::Member(*u)));
                        }
                    }
                }
                layout.channels.push(ChannelPlace {
                    id: channel,
                    folder_id: new.folder_id,
                    position: new.position,
                    announcement: new.announcement,
                    private: new.private,
                    overwrites,
                });
                if layout.default_channel.is_none() {
                    layout.default_channel = Some(channel);
                }
                Ok(())
            })
            .await?;
        self.reconcile(&loaded, None).await?;
        self.announce(id, p.user_id, svc(ServiceAction::ChannelChanged, vec![], name, channel.raw())).await?;
        self.channel_view(p, id, channel).await
    }

    /// One channel as the caller sees it.
    pub async fn channel_view(
        &self,
        p: &Principal,
        id: ConversationId,
        channel: ConversationId,
    ) -> ServiceResult<ChannelView> {
        let (loaded, me) = self.as_member(p, id).await?;
        let view = self.space_view(loaded, Some(me)).await?;
        view.channels
            .into_iter()
            .find(|c| c.conversation.id == channel)
            .ok_or_else(|| ServiceError::not_found("channel"))
    }

    /// Renames, moves or reconfigures a channel (manage_channels in it).
    pub async fn update_channel(
        &self,
        p: &Principal,
        id: ConversationId,
        channel: ConversationId,
        patch: ChannelPatch,
    ) -> ServiceResult<ChannelView> {
        let name = patch.name.as_deref().map(Title::parse).transpose()?.map(Title::into_string);
        let about = patch.about.as_deref().map(About::parse).transpose()?.map(About::into_string);
        let (access_changed, loaded) = self
            .change_layout(p, id, |layout, actor, _| {
                let place = layout.channel(channel).ok_or_else(|| ServiceError::not_found("channel"))?;
                actor.require_in(place, Permissions::MANAGE_CHANNELS)?;
                if let Some(f) = patch.folder_id
                    && f != 0
                    && layout.folder(f).is_none()
                {
                    return Err(ServiceError::not_found("folder"));
                }
                let c = layout.channels.iter_mut().find(|c| c.id == channel).expect("checked above");
                let before = c.private;
                if let Some(v) = patch.folder_id {
                    c.folder_id = v;
                }
                if let Some(v) = patch.position {
                    c.position = v;
                }
                if let Some(v) = patch.announcement {
                    c.announcement = v;
                }
                if let Some(v) = patch.private {
                    c.private = v;
                }
                Ok(before != c.private)
            })
            .await?;
        if name.is_some() || about.is_some() {
            let w = self.store().update_info(channel, p.user_id, name.clone(), about, now_ms()).await?;
            self.publish_written(w);
        }
        if access_changed {
            self.reconcile(&loaded, None).await?;
        }
        let content = svc(ServiceAction::ChannelChanged, vec![], name.unwrap_or_default(), channel.raw());
        self.announce(id, p.user_id, content).await?;
        self.channel_view(p, id, channel).await
    }

    /// Deletes a channel: everyone loses it (manage_channels in it).
    pub async fn delete_channel(
        &self,
        p: &Principal,
        id: ConversationId,
        channel: ConversationId,
    ) -> ServiceResult<()> {
        self.change_layout(p, id, |layout, actor, _| {
            let place = layout.channel(channel).ok_or_else(|| ServiceError::not_found("channel"))?;
            actor.require_in(place, Permissions::MANAGE_CHANNELS)?;
            layout.channels.retain(|c| c.id != channel);
            if layout.default_channel == Some(channel) {
                layout.default_channel = layout.channels.first().map(|c| c.id);
            }
            Ok(())
        })
        .await?;
        self.close_conversation(p.user_id, channel).await?;
        self.announce(id, p.user_id, svc(ServiceAction::ChannelDeleted, vec![], String::new(), channel.raw())).await
    }

    /// Creates a role below the caller's highest role, granting only what the caller has.
    pub async fn create_role(&self, p: &Principal, id: ConversationId, new: RolePatch) -> ServiceResult<Role> {
        let name = name_of(new.name.as_deref().unwrap_or_default(), "name", 100)?;
        let position = new.position.unwrap_or(1);
        if position < 1 {
            return Err(ServiceError::invalid("position", "must be 1 or more (0 is the everyone role)"));
        }
        let (role, _) = self
            .change_layout(p, id, |layout, actor, _| {
                actor.can_manage_role(position)?;
                let permissions = new.permissions.unwrap_or_default();
                actor.can_grant(permissions)?;
                if layout.roles.len() >= MAX_ROLES {
                    return Err(ServiceError::precondition(format!("a space holds at most {MAX_ROLES} roles")));
                }
                let parents = check_parents(layout, actor, None, new.parents.clone().unwrap_or_default())?;
                let role = Role {
                    id: layout.allocate_id(),
                    name: name.clone(),
                    colour: new.colour.unwrap_or(0) & 0xFF_FFFF,
                    position,
                    permissions,
                    parents,
                };
                layout.roles.push(role.clone());
                Ok(role)
            })
            .await?;
        self.announce(id, p.user_id, svc(ServiceAction::RoleChanged, vec![], role.name.clone(), role.id)).await?;
        Ok(role)
    }

    /// Changes a role below the caller's highest role.
    pub async fn update_role(
        &self,
        p: &Principal,
        id: ConversationId,
        role_id: i64,
        patch: RolePatch,
    ) -> ServiceResult<Role> {
        let name = patch.name.as_deref().map(|n| name_of(n, "name", 100)).transpose()?;
        let (role, loaded) = self
            .change_layout(p, id, |layout, actor, _| {
                let current = layout.role(role_id).ok_or_else(|| ServiceError::not_found("role"))?.clone();
                actor.can_manage_role(current.position)?;
                let mut role = current;
                if let Some(pos) = patch.position {
                    if role_id == EVERYONE_ROLE {
                        return Err(ServiceError::invalid("position", "the everyone role stays at 0"));
                    }
                    if pos < 1 {
                        return Err(ServiceError::invalid("position", "must be 1 or more"));
                    }
                    actor.can_manage_role(pos)?;
                    role.position = pos;
                }
                if let Some(perms) = patch.permissions {
                    // Only what the caller has may be added; what they lack may stay.
                    actor.can_grant(perms.without(role.permissions))?;
                    role.permissions = perms;
                }
                if let Some(parents) = patch.parents.clone() {
                    if role_id == EVERYONE_ROLE && !parents.is_empty() {
                        return Err(ServiceError::invalid("parent_ids", "the everyone role has no parents"));
                    }
                    role.parents = check_parents(layout, actor, Some(role_id), parents)?;
                }
                if let Some(n) = &name {
                    role.name = n.clone();
                }
                if let Some(c) = patch.colour {
                    role.colour = c & 0xFF_FFFF;
                }
                let slot = layout.roles.iter_mut().find(|r| r.id == role_id).expect("checked above");
                *slot = role.clone();
                Ok(role)
            })
            .await?;
        self.reconcile(&loaded, None).await?;
        self.announce(id, p.user_id, svc(ServiceAction::RoleChanged, vec![], role.name.clone(), role.id)).await?;
        Ok(role)
    }

    /// Deletes a role below the caller's highest role; it leaves parents and overwrites.
    pub async fn delete_role(&self, p: &Principal, id: ConversationId, role_id: i64) -> ServiceResult<()> {
        let (_, loaded) = self
            .change_layout(p, id, |layout, actor, _| {
                if role_id == EVERYONE_ROLE {
                    return Err(ServiceError::invalid("role_id", "the everyone role cannot be deleted"));
                }
                let role = layout.role(role_id).ok_or_else(|| ServiceError::not_found("role"))?;
                actor.can_manage_role(role.position)?;
                layout.roles.retain(|r| r.id != role_id);
                for r in &mut layout.roles {
                    r.parents.retain(|p| *p != role_id);
                }
                for c in &mut layout.channels {
                    c.overwrites.retain(|o| o.target != OverwriteTarget::Role(role_id));
                }
                Ok(())
            })
            .await?;
        self.reconcile(&loaded, None).await?;
        self.announce(id, p.user_id, svc(ServiceAction::RoleDeleted, vec![], String::new(), role_id)).await
    }

    /// Gives (`assign`) or takes a role: the role must rank below the caller, and so must
    /// the member unless it is the caller.
    pub async fn set_space_role(
        &self,
        p: &Principal,
        id: ConversationId,
        user: UserId,
        role_id: i64,
        assign: bool,
    ) -> ServiceResult<SpaceMember> {
        if role_id == EVERYONE_ROLE {
            return Err(ServiceError::invalid("role_id", "every member holds the everyone role"));
        }
        for _ in 0..CAS_ATTEMPTS {
            let (loaded, me) = self.as_member(p, id).await?;
            let actor =
                Actor { layout: &loaded.layout, owner: loaded.space.owner_id, member: Some(&me), now_ms: now_ms() };
            let role = loaded.layout.role(role_id).ok_or_else(|| ServiceError::not_found("role"))?;
            actor.can_manage_role(role.position)?;
            let mut target = self.space_member(id, user).await?.ok_or_else(|| ServiceError::not_found("member"))?;
            if user != p.user_id {
                actor.can_act_on(Permissions::MANAGE_ROLES, &target)?;
            }
            let key = user.to_string();
            let version = self.store().record(id, MEMBER, &key).await?.map(|r| r.version);
            let had = target.roles.contains(&role_id);
            if had == assign {
                return Ok(target);
            }
            if assign {
                target.roles.push(role_id);
            } else {
                target.roles.retain(|r| *r != role_id);
            }
            let expect = version.map_or(Expect::Absent, Expect::Version);
            match self.store().put_record(id, MEMBER, &key, json(&target)?, expect).await {
                Ok(_) => {}
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
            self.reconcile(&loaded, Some(std::slice::from_ref(&target))).await?;
            let content = svc(ServiceAction::MemberRolesChanged, vec![user], String::new(), role_id);
            self.announce(id, p.user_id, content).await?;
            return Ok(target);
        }
        Err(StoreError::Conflict("the member's roles").into())
    }

    /// Sets (`Some`) or removes a channel's overwrite for a role or member.
    pub async fn set_overwrite(
        &self,
        p: &Principal,
        id: ConversationId,
        channel: ConversationId,
        target: OverwriteTarget,
        set: Option<(Permissions, Permissions)>,
    ) -> ServiceResult<ChannelView> {
        if let OverwriteTarget::Member(u) = target
            && set.is_some()
            && self.store().member(id, u).await?.is_none()
        {
            return Err(ServiceError::not_found("member"));
        }
        let (_, loaded) = self
            .change_layout(p, id, |layout, actor, _| {
                let place = layout.channel(channel).ok_or_else(|| ServiceError::not_found("channel"))?;
                actor.require_in(place, Permissions::MANAGE_CHANNELS)?;
                if let OverwriteTarget::Role(r) = target {
                    let role = layout.role(r).ok_or_else(|| ServiceError::not_found("role"))?;
                    actor.can_manage_role(role.position)?;
                }
                if let Some((allow, deny)) = set {
                    actor.can_grant(allow.union(deny))?;
                }
                let c = layout.channels.iter_mut().find(|c| c.id == channel).expect("checked above");
                c.overwrites.retain(|o| o.target != target);
                if let Some((allow, deny)) = set {
                    c.overwrites.push(Overwrite { target, allow: allow.without(deny), deny });
                }
                Ok(())
            })
            .await?;
        self.reconcile(&loaded, None).await?;
        self.announce(id, p.user_id, svc(ServiceAction::ChannelChanged, vec![], String::new(), channel.raw())).await?;
        self.channel_view(p, id, channel).await
    }

    /// Removes a member from the space and its channels (kick; the member ranks below).
    pub async fn kick_member(&self, p: &Principal, id: ConversationId, user: UserId) -> ServiceResult<()> {
        let (loaded, me) = self.as_member(p, id).await?;
        let target = self.space_member(id, user).await?.ok_or_else(|| ServiceError::not_found("member"))?;
        let actor = Actor { layout: &loaded.layout, owner: loaded.space.owner_id, member: Some(&me), now_ms: now_ms() };
        actor.can_act_on(Permissions::KICK, &target)?;
        self.drop_member_access(&loaded, user).await?;
        let w = self.store().change_membership(id, p.user_id, MembershipChange::Remove(user), now_ms()).await?;
        self.publish_written(w);
        Ok(())
    }

    /// Bans a user (removing them if they are a member below the caller).
    pub async fn ban_member(&self, p: &Principal, id: ConversationId, user: UserId, reason: &str) -> ServiceResult<()> {
        let reason = reason.trim();
        if reason.chars().count() > 512 {
            return Err(ServiceError::invalid("reason", "at most 512 characters"));
        }
        let (loaded, me) = self.as_member(p, id).await?;
        let actor = Actor { layout: &loaded.layout, owner: loaded.space.owner_id, member: Some(&me), now_ms: now_ms() };
        let target = self.space_member(id, user).await?;
        match &target {
            Some(t) => actor.can_act_on(Permissions::BAN, t)?,
            None => {
                actor.require(Permissions::BAN)?;
                if user == loaded.space.owner_id {
                    return Err(ServiceError::denied("nobody can do this to the owner"));
                }
                self.store().user(user).await?.ok_or_else(|| ServiceError::not_found("user"))?;
            }
        }
        let ban = BanRecord { reason: reason.to_owned(), banned_by: p.user_id, created_at_ms: now_ms() };
        self.store().put_record(id, BAN, &user.to_string(), json(&ban)?, Expect::Any).await?;
        self.store().delete_record(id, crate::invites::REQUEST, &user.to_string()).await?;
        if target.is_some() {
            self.drop_member_access(&loaded, user).await?;
            let w = self.store().change_membership(id, p.user_id, MembershipChange::Ban(user), now_ms()).await?;
            self.publish_written(w);
        } else {
            self.announce(id, p.user_id, svc(ServiceAction::MemberBanned, vec![user], String::new(), 0)).await?;
        }
        Ok(())
    }

    /// Lifts a ban (ban).
    pub async fn unban_member(&self, p: &Principal, id: ConversationId, user: UserId) -> ServiceResult<()> {
        let (loaded, me) = self.as_member(p, id).await?;
        let actor = Actor { layout: &loaded.layout, owner: loaded.space.owner_id, member: Some(&me), now_ms: now_ms() };
        actor.require(Permissions::BAN)?;
        if !self.store().delete_record(id, BAN, &user.to_string()).await? {
            return Err(ServiceError::not_found("ban"));
        }
        self.announce(id, p.user_id, svc(ServiceAction::MemberUnbanned, vec![user], String::new(), 0)).await
    }

    /// A page of bans by user id (ban).
    pub async fn list_bans(
        &self,
        p: &Principal,
        id: ConversationId,
        cursor: &str,
        limit: u32,
    ) -> ServiceResult<(Vec<(UserId, BanRecord)>, Option<String>)> {
        let (loaded, me) = self.as_member(p, id).await?;
        let actor = Actor { layout: &loaded.layout, owner: loaded.space.owner_id, member: Some(&me), now_ms: now_ms() };
        actor.require(Permissions::BAN)?;
        let limit = if limit == 0 { 50 } else { limit.min(200) };
        let page = self.store().list_records(id, BAN, cursor, limit).await?;
        let next = (page.len() == limit as usize).then(|| page.last().map(|r| r.key.clone())).flatten();
        let mut out = Vec::with_capacity(page.len());
        for r in page {
            let user = UserId::parse(&r.key, "cursor").map_err(|_| ServiceError::internal("corrupt ban key"))?;
            out.push((user, parse(&r.body)?));
        }
        Ok((out, next))
    }

    /// Times a member out until `until_ms` (0 lifts it): kick, and the member ranks below.
    pub async fn timeout_member(
        &self,
        p: &Principal,
        id: ConversationId,
        user: UserId,
        until_ms: i64,
    ) -> ServiceResult<SpaceMember> {
        let now = now_ms();
        if until_ms != 0 && (until_ms <= now || until_ms > now + MAX_TIMEOUT_MS) {
            return Err(ServiceError::invalid("until_ms", "must be in the future and at most 28 days ahead, or 0"));
        }
        for _ in 0..CAS_ATTEMPTS {
            let (loaded, me) = self.as_member(p, id).await?;
            let actor = Actor { layout: &loaded.layout, owner: loaded.space.owner_id, member: Some(&me), now_ms: now };
            let mut target = self.space_member(id, user).await?.ok_or_else(|| ServiceError::not_found("member"))?;
            actor.can_act_on(Permissions::KICK, &target)?;
            let key = user.to_string();
            let version = self.store().record(id, MEMBER, &key).await?.map(|r| r.version);
            target.timeout_until_ms = until_ms;
            let expect = version.map_or(Expect::Absent, Expect::Version);
            match self.store().put_record(id, MEMBER, &key, json(&target)?, expect).await {
                Ok(_) => {}
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
            self.announce(id, p.user_id, svc(ServiceAction::MemberTimedOut, vec![user], String::new(), until_ms))
                .await?;
            return Ok(target);
        }
        Err(StoreError::Conflict("the member's standing").into())
    }

    /// Unread and mention counts of the caller's channels in a space.
    pub async fn space_unread(
        &self,
        p: &Principal,
        id: ConversationId,
    ) -> ServiceResult<(u32, u32, Vec<(ConversationId, u32, u32)>)> {
        let (loaded, _) = self.as_member(p, id).await?;
        let cap = self.config().counter_cap;
        let (mut unread, mut mentions, mut per) = (0u32, 0u32, Vec::new());
        for c in &loaded.layout.channels {
            if let Some(entry) = self.store().entry(c.id, p.user_id).await? {
                let (u, m) = self.store().counters(c.id, p.user_id, entry.member.read_seq, cap).await?;
                if u > 0 || m > 0 {
                    per.push((c.id, u, m));
                }
                unread = unread.saturating_add(u);
                mentions = mentions.saturating_add(m);
            }
        }
        Ok((unread.min(cap), mentions.min(cap), per))
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
        let actor =
            Actor { layout: &loaded.layout, owner: loaded.space.owner_id, member: me.as_ref(), now_ms: now_ms() };
        let perms = actor.channel_permissions(place);
        if !perms.contains(Permissions::VIEW) {
            return Err(ServiceError::not_found("conversation"));
        }
        Ok(perms)
    }

    /// The members (with the kick permission) who decide a space's join requests.
    pub(crate) async fn space_deciders(&self, id: ConversationId) -> ServiceResult<Vec<UserId>> {
        let loaded = self.load_space(id).await?;
        let now = now_ms();
        Ok(self
            .all_members(id)
            .await?
            .iter()
            .filter(|m| {
                Actor { layout: &loaded.layout, owner: loaded.space.owner_id, member: Some(m), now_ms: now }
                    .space_permissions()
                    .contains(Permissions::KICK)
            })
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
        Actor { layout: &loaded.layout, owner: loaded.space.owner_id, member: Some(&me), now_ms: now_ms() }
            .require(needed)?;
        Ok(loaded)
    }
}

fn allow_view(target: OverwriteTarget) -> Overwrite {
    Overwrite { target, allow: Permissions::VIEW, deny: Permissions::NONE }
}

fn check_parents(
    layout: &SpaceLayout,
    actor: &Actor<'_>,
    this: Option<i64>,
    mut parents: Vec<i64>,
) -> ServiceResult<Vec<i64>> {
    parents.sort_unstable();
    parents.dedup();
    for p in &parents {
        if Some(*p) == this || *p == EVERYONE_ROLE {
            return Err(ServiceError::invalid("parent_ids", "a role cannot inherit from itself or from everyone"));
        }
        let role = layout.role(*p).ok_or_else(|| ServiceError::not_found("parent role"))?;
        actor.can_manage_role(role.position)?;
    }
    Ok(parents)
}
