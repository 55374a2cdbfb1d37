//! Folders, channels and per-channel overwrites (manage_channels).

use switchboard_core::ConversationId;
use switchboard_core::model::ServiceAction;
use switchboard_core::space::{
    ChannelPlace, Folder, MAX_CHANNELS, MAX_FOLDER_DEPTH, MAX_FOLDERS, Overwrite, OverwriteTarget, Permissions,
};
use switchboard_core::values::{About, Title};

use crate::{Principal, ServiceError, ServiceResult, Services};

use super::state::{ChannelPatch, ChannelView, NewChannel, name_of, svc};

impl Services {
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
                    return Err(ServiceError::precondition(format!("a space holds at most {MAX_FOLDERS} folders"))
                        .because("limit_reached"));
                }
                let depth = layout.folder_depth(parent_id).ok_or_else(|| ServiceError::not_found("parent folder"))?;
                if depth + 1 > MAX_FOLDER_DEPTH {
                    return Err(ServiceError::precondition(format!("folders nest at most {MAX_FOLDER_DEPTH} deep"))
                        .because("limit_reached"));
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
                        ))
                        .because("limit_reached"));
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
                return Err(ServiceError::precondition("move or delete the folder's channels and folders first")
                    .because("folder_not_empty"));
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
        let actor = loaded.actor(Some(&me));
        actor.require(Permissions::MANAGE_CHANNELS)?;
        let (channel, written) = self.new_channel_conversation(id, p.user_id, &name, &about).await?;
        let placed = self
            .change_layout(p, id, |layout, actor, _| {
                actor.require(Permissions::MANAGE_CHANNELS)?;
                if layout.channels.len() >= MAX_CHANNELS {
                    return Err(ServiceError::precondition(format!("a space holds at most {MAX_CHANNELS} channels"))
                        .because("limit_reached"));
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
            .await;
        // Members hear of the channel once it is in the layout (published either way, so
        // that the live stream matches the logs).
        self.publish_written(written);
        let (_, loaded) = placed?;
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
            let w = self.store().update_info(channel, p.user_id, name.clone(), about, None, self.now_ms()).await?;
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
}

pub(super) fn allow_view(target: OverwriteTarget) -> Overwrite {
    Overwrite { target, allow: Permissions::VIEW, deny: Permissions::NONE }
}
