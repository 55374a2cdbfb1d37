//! Roles with parent roles, and assigning them (manage_roles, below one's own rank).

use switchboard_core::model::ServiceAction;
use switchboard_core::space::{
    Actor, EVERYONE_ROLE, MAX_ROLES, OverwriteTarget, Permissions, Role, SpaceLayout, SpaceMember,
};
use switchboard_core::{ConversationId, UserId};
use switchboard_store::{Expect, StoreError};

use crate::{Principal, ServiceError, ServiceResult, Services};

use super::state::{CAS_ATTEMPTS, MEMBER, RolePatch, json, name_of, svc};

impl Services {
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
                    return Err(ServiceError::precondition(format!("a space holds at most {MAX_ROLES} roles"))
                        .because("limit_reached"));
                }
                let parents = check_parents(layout, actor, None, new.parents.clone().unwrap_or_default())?;
                let role = Role {
                    id: layout.allocate_id(),
                    name: name.clone(),
                    colour: new.colour.unwrap_or(0) & 0xFF_FFFF,
                    position,
                    permissions,
                    parents,
                    mentionable: new.mentionable.unwrap_or(false),
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
                if let Some(m) = patch.mentionable {
                    role.mentionable = m;
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
            let actor = loaded.actor(Some(&me));
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
}

pub(super) fn check_parents(
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
    if let Some(role) = this
        && layout.parents_cycle(role, &parents)
    {
        return Err(ServiceError::invalid("parent_ids", "a role cannot inherit from a role that inherits from it"));
    }
    Ok(parents)
}

/// Changes to a member's profile in a space; `None` leaves a field alone, an empty string
/// clears it.
#[derive(Debug, Clone, Default)]
pub struct SpaceProfilePatch {
    /// Nickname (at most 64 characters).
    pub nickname: Option<String>,
    /// Title (at most 64 characters; managers only).
    pub title: Option<String>,
    /// Status (at most 128 characters).
    pub status: Option<String>,
}

/// A profile field: trimmed, at most `max` characters, no control characters; may be empty.
fn profile_field(field: &'static str, value: Option<String>, max: usize) -> ServiceResult<Option<String>> {
    value
        .map(|v| {
            let t = v.trim();
            if t.chars().count() > max || t.chars().any(char::is_control) {
                Err(ServiceError::invalid(field, format!("at most {max} characters, no control characters")))
            } else {
                Ok(t.to_owned())
            }
        })
        .transpose()
}

impl Services {
    /// Changes a member's nickname, title or status in a space: nickname and status by the
    /// member or by a manager of roles who ranks above them; the title only by such a
    /// manager. A service message in the space's log tells the members.
    pub async fn update_space_member_profile(
        &self,
        p: &Principal,
        id: ConversationId,
        user: UserId,
        patch: SpaceProfilePatch,
    ) -> ServiceResult<SpaceMember> {
        let nickname = profile_field("nickname", patch.nickname, 64)?;
        let title = profile_field("title", patch.title, 64)?;
        let status = profile_field("status", patch.status, 128)?;
        for _ in 0..CAS_ATTEMPTS {
            let (loaded, me) = self.as_member(p, id).await?;
            let actor = loaded.actor(Some(&me));
            let mut target = self.space_member(id, user).await?.ok_or_else(|| ServiceError::not_found("member"))?;
            if user != p.user_id || title.is_some() {
                if user == p.user_id {
                    actor.require(Permissions::MANAGE_ROLES)?;
                } else {
                    actor.can_act_on(Permissions::MANAGE_ROLES, &target)?;
                }
            }
            let before = target.clone();
            if let Some(v) = &nickname {
                target.nickname = v.clone();
            }
            if let Some(v) = &title {
                target.title = v.clone();
            }
            if let Some(v) = &status {
                target.status = v.clone();
            }
            if target == before {
                return Ok(target);
            }
            let key = user.to_string();
            let version = self.store().record(id, MEMBER, &key).await?.map(|r| r.version);
            let expect = version.map_or(Expect::Absent, Expect::Version);
            match self.store().put_record(id, MEMBER, &key, json(&target)?, expect).await {
                Ok(_) => {}
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
            let content = svc(ServiceAction::MemberProfileChanged, vec![user], String::new(), 0);
            self.announce(id, p.user_id, content).await?;
            return Ok(target);
        }
        Err(StoreError::Conflict("the member's profile").into())
    }
}

impl Services {
    /// The members of space channel `channel` whom a mention of `roles` by the caller
    /// reaches: holders of each role (every member for the everyone role) who are in the
    /// channel. Mentioning a role needs mention-everyone unless the role is mentionable.
    pub(crate) async fn role_mentions(
        &self,
        p: &Principal,
        channel: ConversationId,
        roles: &[i64],
    ) -> ServiceResult<Vec<UserId>> {
        let conv = self.store().conversation(channel).await?.ok_or_else(|| ServiceError::not_found("conversation"))?;
        let space = match (conv.kind, conv.space_id) {
            (switchboard_core::model::ConversationKind::SpaceChannel, Some(s)) => s,
            _ => return Err(ServiceError::invalid("entities", "roles are mentioned in space channels only")),
        };
        let access = self.access(p, &conv).await?;
        let loaded = self.load_space(space).await?;
        for r in roles {
            let role = loaded
                .layout
                .role(*r)
                .ok_or_else(|| ServiceError::invalid("entities", format!("no role {r} in this space")))?;
            if !role.mentionable && !access.mention_all {
                return Err(ServiceError::denied(format!(
                    "mentioning the role {:?} needs the mention-everyone permission",
                    role.name
                )));
            }
        }
        let in_channel: std::collections::HashSet<UserId> =
            self.store().member_ids(channel).await?.into_iter().collect();
        if roles.contains(&EVERYONE_ROLE) {
            return Ok(in_channel.into_iter().filter(|u| *u != p.user_id).collect());
        }
        Ok(self
            .all_members(space)
            .await?
            .into_iter()
            .filter(|m| {
                m.user_id != p.user_id && m.roles.iter().any(|r| roles.contains(r)) && in_channel.contains(&m.user_id)
            })
            .map(|m| m.user_id)
            .collect())
    }
}
