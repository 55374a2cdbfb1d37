//! Spaces themselves: create, read, change, delete, list, discover, join and leave; the
//! member list and card, "my permissions" and the unread summary.

use std::collections::HashMap;

use switchboard_core::model::{ConversationKind, Member, Message, ServiceAction};
use switchboard_core::space::{ChannelPlace, Permissions, SpaceLayout, SpaceMember};
use switchboard_core::values::{About, ClientKey, Title};
use switchboard_core::{ConversationId, UserId};
use switchboard_store::{Expect, MembershipChange, NewConversation, StoreError, Written};

use crate::{Principal, ServiceError, ServiceResult, Services};

use super::state::{
    BAN, DIRECTORY, LAYOUT, MEMBER, SpaceMemberView, SpacePatch, SpaceView, json, parse, space_not_found, svc,
};

impl Services {
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
        let now = self.now_ms();
        let mut new = NewConversation::new(ConversationKind::Space, name.clone(), about, p.user_id, vec![], now);
        new.client_key = key;
        let created = self.store().create_conversation(new).await?;
        let id = created.conversation.id;
        // The owner's devices hear of the space (and its general channel) once its layout
        // is stored: a client that reads the space on that event finds it. Whatever was
        // written is published either way, so that the live stream matches the logs.
        let mut written = vec![created.written];
        let laid_out = self.lay_out_new_space(p, id, public, &name, &mut written).await;
        for w in written {
            self.publish_written(w);
        }
        laid_out?;
        self.get_space(p, id).await
    }

    /// A new space's layout with its general channel, unless a retry of the same creation
    /// finds it already there.
    async fn lay_out_new_space(
        &self,
        p: &Principal,
        id: ConversationId,
        public: bool,
        name: &str,
        written: &mut Vec<Written>,
    ) -> ServiceResult<()> {
        if self.store().record(id, LAYOUT, "").await?.is_some() {
            return Ok(());
        }
        let mut layout = SpaceLayout::new(public);
        let (general, w) = self.new_channel_conversation(id, p.user_id, "general", "").await?;
        written.push(w);
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
            self.set_directory(id, None, Some(name)).await?;
        }
        Ok(())
    }

    /// A channel's conversation; the caller publishes what it wrote once the channel is in
    /// the space's layout.
    pub(super) async fn new_channel_conversation(
        &self,
        space: ConversationId,
        creator: UserId,
        name: &str,
        about: &str,
    ) -> ServiceResult<(ConversationId, Written)> {
        let mut new = NewConversation::new(
            ConversationKind::SpaceChannel,
            name.to_owned(),
            about.to_owned(),
            creator,
            vec![],
            self.now_ms(),
        );
        new.space_id = Some(space);
        let created = self.store().create_conversation(new).await?;
        Ok((created.conversation.id, created.written))
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
        if let Some(Some(file)) = patch.avatar {
            self.check_avatar(p, file).await?;
        }
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
            let w = self.store().update_info(id, p.user_id, name.clone(), about, None, self.now_ms()).await?;
            self.publish_written(w);
        }
        if settings {
            self.announce(id, p.user_id, svc(ServiceAction::SpaceSettingsChanged, vec![], String::new(), 0)).await?;
        }
        if let Some(avatar) = patch.avatar {
            let w = self.store().set_conversation_avatar(id, p.user_id, avatar, self.now_ms()).await?;
            self.publish_written(w);
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
        let prefix = prefix.trim().to_lowercase();
        if prefix.chars().count() > 64 {
            return Err(ServiceError::invalid("prefix", "must be at most 64 characters"));
        }
        let limit = if limit == 0 { 20 } else { limit.min(100) };
        let mut out = Vec::new();
        for r in self.store().search_records(DIRECTORY, &prefix, limit).await? {
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
        match self.store().change_membership(space, user, MembershipChange::Join, self.now_ms()).await {
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
            return Err(ServiceError::precondition("the owner cannot leave; delete the space instead")
                .because("owner_must_transfer"));
        }
        self.drop_member_access(&loaded, p.user_id).await?;
        let w = self.store().change_membership(id, p.user_id, MembershipChange::Leave, self.now_ms()).await?;
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
            let m: SpaceMember = parse(&r)?;
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
        let actor = loaded.actor(Some(&me));
        let visible: Vec<ConversationId> = loaded
            .layout
            .channels
            .iter()
            .filter(|c| actor.channel_permissions(c).contains(Permissions::VIEW))
            .map(|c| c.id)
            .collect();
        let window = self.config().member_card_window;
        let windows: Vec<(ConversationId, u64)> = self
            .store()
            .conversations(&visible)
            .await?
            .iter()
            .map(|c| (c.id, c.last_seq.saturating_sub(window)))
            .collect();
        let (count, recent) = self.store().sender_stats(&windows, user, 5).await?;
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
        let actor = loaded.actor(Some(&me));
        match channel {
            None => Ok(actor.space_permissions()),
            Some(c) => {
                let place = loaded.layout.channel(c).ok_or_else(|| ServiceError::not_found("channel"))?;
                Ok(actor.channel_permissions(place))
            }
        }
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
}
