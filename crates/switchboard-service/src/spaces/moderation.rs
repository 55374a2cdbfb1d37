//! Kick, ban, unban, the ban list and timeouts.

use switchboard_core::model::ServiceAction;
use switchboard_core::space::{Permissions, SpaceMember};
use switchboard_core::{ConversationId, UserId};
use switchboard_store::{Expect, MembershipChange, StoreError};

use crate::{Principal, ServiceError, ServiceResult, Services};

use super::state::{BAN, BanRecord, CAS_ATTEMPTS, MAX_TIMEOUT_MS, MEMBER, json, parse, svc};

impl Services {
    /// Removes a member from the space and its channels (kick; the member ranks below).
    pub async fn kick_member(&self, p: &Principal, id: ConversationId, user: UserId) -> ServiceResult<()> {
        let (loaded, me) = self.as_member(p, id).await?;
        let target = self.space_member(id, user).await?.ok_or_else(|| ServiceError::not_found("member"))?;
        let actor = loaded.actor(Some(&me));
        actor.can_act_on(Permissions::KICK, &target)?;
        self.drop_member_access(&loaded, user).await?;
        let w = self.store().change_membership(id, p.user_id, MembershipChange::Remove(user), self.now_ms()).await?;
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
        let actor = loaded.actor(Some(&me));
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
        let ban = BanRecord { reason: reason.to_owned(), banned_by: p.user_id, created_at_ms: self.now_ms() };
        self.store().put_record(id, BAN, &user.to_string(), json(&ban)?, Expect::Any).await?;
        self.store().delete_record(id, crate::invites::REQUEST, &user.to_string()).await?;
        if target.is_some() {
            self.drop_member_access(&loaded, user).await?;
            let w = self.store().change_membership(id, p.user_id, MembershipChange::Ban(user), self.now_ms()).await?;
            self.publish_written(w);
        } else {
            self.announce(id, p.user_id, svc(ServiceAction::MemberBanned, vec![user], String::new(), 0)).await?;
        }
        Ok(())
    }

    /// Lifts a ban (ban).
    pub async fn unban_member(&self, p: &Principal, id: ConversationId, user: UserId) -> ServiceResult<()> {
        let (loaded, me) = self.as_member(p, id).await?;
        let actor = loaded.actor(Some(&me));
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
        let actor = loaded.actor(Some(&me));
        actor.require(Permissions::BAN)?;
        let limit = if limit == 0 { 50 } else { limit.min(200) };
        let page = self.store().list_records(id, BAN, cursor, limit).await?;
        let next = (page.len() == limit as usize).then(|| page.last().map(|r| r.key.clone())).flatten();
        let mut out = Vec::with_capacity(page.len());
        for r in page {
            let user = UserId::parse(&r.key, "cursor").map_err(|_| ServiceError::internal("corrupt ban key"))?;
            out.push((user, parse(&r)?));
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
        let now = self.now_ms();
        if until_ms != 0 && (until_ms <= now || until_ms > now + MAX_TIMEOUT_MS) {
            return Err(ServiceError::invalid("until_ms", "must be in the future and at most 28 days ahead, or 0"));
        }
        for _ in 0..CAS_ATTEMPTS {
            let (loaded, me) = self.as_member(p, id).await?;
            let actor = loaded.actor(Some(&me));
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
}
