//! Privacy settings: who may message a user directly, add them to groups, see their
//! presence, photo and bio, and find them in search; the checks every operation that
//! touches them makes. A refusal is the same generic `not_reachable` as a block's.

use switchboard_core::UserId;
use switchboard_core::model::User;
use switchboard_core::privacy::{PrivacyRule, PrivacySetting};

use crate::contacts::not_reachable;
use crate::{Principal, ServiceError, ServiceResult, Services};

impl Services {
    /// The caller's rule for every setting (the default where they changed nothing).
    pub async fn privacy_rules(&self, p: &Principal) -> ServiceResult<Vec<PrivacyRule>> {
        let set = self.store().privacy_rules(p.user_id).await?;
        Ok(PrivacySetting::ALL
            .into_iter()
            .map(|s| set.iter().find(|r| r.setting == s).cloned().unwrap_or_else(|| PrivacyRule::default_for(s)))
            .collect())
    }

    /// Replaces the caller's rules for the settings given (each at most once), all or none;
    /// every setting afterwards and the user-log position of the change.
    pub async fn set_privacy_rules(
        &self,
        p: &Principal,
        mut rules: Vec<PrivacyRule>,
    ) -> ServiceResult<(Vec<PrivacyRule>, u64)> {
        if rules.is_empty() {
            return Err(ServiceError::invalid("rules", "give at least one rule"));
        }
        let max = self.config().max_privacy_exceptions as usize;
        let mut seen = std::collections::HashSet::new();
        if !rules.iter().all(|r| seen.insert(r.setting)) {
            return Err(ServiceError::invalid("rules", "a setting appears twice"));
        }
        for rule in &mut rules {
            for list in [&mut rule.allow, &mut rule.deny] {
                list.sort_unstable();
                list.dedup();
            }
            if rule.allow.len() + rule.deny.len() > max {
                return Err(ServiceError::invalid(
                    "rules",
                    format!("at most {max} people on a setting's allow and deny lists together"),
                ));
            }
            if rule.allow.iter().chain(&rule.deny).any(|u| *u == p.user_id) {
                return Err(ServiceError::invalid("rules", "you cannot list yourself"));
            }
            if rule.allow.iter().any(|u| rule.deny.binary_search(u).is_ok()) {
                return Err(ServiceError::invalid("rules", "someone is on both the allow and the deny list"));
            }
        }
        let touched_presence = rules.iter().any(|r| r.setting == PrivacySetting::Presence);
        let events = match self.store().set_privacy_rules(p.user_id, rules, self.now_ms()).await {
            Err(switchboard_store::StoreError::NotFound(_)) => {
                return Err(ServiceError::invalid("rules", "an allow or deny list names an unknown user"));
            }
            other => other?,
        };
        let user_seq = events.last().map_or(0, |e| e.user_seq);
        events.into_iter().for_each(|ev| self.publish_user(ev));
        if touched_presence {
            self.presence_audience_shrank(vec![p.user_id]);
        }
        Ok((self.privacy_rules(p).await?, user_seq))
    }

    /// Which of `owners` keep `viewer` out of `setting` (a block keeps out of everything).
    pub(crate) async fn refusing(
        &self,
        viewer: UserId,
        owners: &[UserId],
        setting: PrivacySetting,
    ) -> ServiceResult<Vec<UserId>> {
        let refused = self.store().privacy_refusals(viewer, owners, &[setting]).await?;
        Ok(refused.into_iter().map(|(u, _)| u).collect())
    }

    /// Refuses, with the generic `not_reachable`, when any of `owners` keeps the caller out
    /// of `setting`.
    pub(crate) async fn check_privacy(
        &self,
        p: &Principal,
        owners: &[UserId],
        setting: PrivacySetting,
    ) -> ServiceResult<()> {
        if self.refusing(p.user_id, owners, setting).await?.is_empty() { Ok(()) } else { Err(not_reachable()) }
    }

    /// May the caller write in the direct chat of `pair`, started by `starter`? The peer's
    /// direct-messages setting decides, except in a chat the peer started (then only a
    /// block keeps the caller out). Notes to self are always open.
    pub(crate) async fn check_direct(
        &self,
        p: &Principal,
        pair: (UserId, UserId),
        starter: UserId,
    ) -> ServiceResult<()> {
        match pair {
            // A non-member is refused by the membership check that follows.
            (a, b) if a != b && (a == p.user_id || b == p.user_id) => {
                let peer = if a == p.user_id { b } else { a };
                self.check_direct_peer(p, peer, starter == peer).await
            }
            _ => Ok(()),
        }
    }

    async fn check_direct_peer(&self, p: &Principal, peer: UserId, peer_started: bool) -> ServiceResult<()> {
        if peer_started {
            self.check_reachable(p, &[peer]).await
        } else {
            self.check_privacy(p, &[peer], PrivacySetting::DirectMessages).await
        }
    }

    /// May the caller open a direct chat with `peer`? As for writing in it.
    pub(crate) async fn check_open_direct(&self, p: &Principal, peer: UserId) -> ServiceResult<()> {
        if peer == p.user_id {
            return Ok(());
        }
        let started = self.store().direct_between(p.user_id, peer).await?.is_some_and(|c| c.owner_id == peer);
        self.check_direct_peer(p, peer, started).await
    }

    /// Profiles as the caller may see them: the photo and bio of those whose settings keep
    /// the caller out are left out.
    pub(crate) async fn shown_to(&self, p: &Principal, mut users: Vec<User>) -> ServiceResult<Vec<User>> {
        let owners: Vec<UserId> = users.iter().map(|u| u.id).filter(|u| *u != p.user_id).collect();
        if owners.is_empty() {
            return Ok(users);
        }
        let settings = [PrivacySetting::ProfilePhoto, PrivacySetting::Bio];
        let refused = self.store().privacy_refusals(p.user_id, &owners, &settings).await?;
        for (owner, setting) in refused {
            for u in users.iter_mut().filter(|u| u.id == owner) {
                match setting {
                    PrivacySetting::ProfilePhoto => u.avatar = None,
                    _ => u.bio.clear(),
                }
            }
        }
        Ok(users)
    }

    /// `users` without those who keep `viewer` out of search.
    pub(crate) async fn findable(&self, viewer: UserId, mut users: Vec<User>) -> ServiceResult<Vec<User>> {
        let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
        let hidden = self.refusing(viewer, &ids, PrivacySetting::Search).await?;
        users.retain(|u| !hidden.contains(&u.id));
        Ok(users)
    }

    /// Checks again, off the request path, who of this node's sessions may follow the
    /// presence of a user whose audience shrank; those kept out stop following and are
    /// told the user is offline, never seen.
    pub(crate) fn start_presence_rechecks(&self) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<crate::hub::presence::Recheck>();
        self.hub().rechecks_to(tx);
        let weak = std::sync::Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            while let Some((owner, watchers)) = rx.recv().await {
                let Some(inner) = weak.upgrade() else { return };
                let services = Services { inner };
                for (session, viewer) in watchers {
                    match services.refusing(viewer, &[owner], PrivacySetting::Presence).await {
                        Ok(refused) if !refused.is_empty() => services.hub().revoke_watch(session, owner),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, %owner, "cannot check a presence watcher again"),
                    }
                }
            }
        });
    }

    /// Tells every node that `owners`' presence audiences may have shrunk.
    pub(crate) fn presence_audience_shrank(&self, owners: Vec<UserId>) {
        self.hub().announce_revoked(owners);
    }

    /// The profile as anyone may see it, and whether some viewers see more or less (a
    /// photo or bio rule other than the default): what a profile change tells followers.
    pub(crate) async fn public_profile(&self, user: &User) -> ServiceResult<(User, bool)> {
        let mut public = user.clone();
        let mut partial = false;
        for rule in self.store().privacy_rules(user.id).await? {
            match rule.setting {
                PrivacySetting::ProfilePhoto => public.avatar = None,
                PrivacySetting::Bio => public.bio.clear(),
                _ => continue,
            }
            partial = true;
        }
        Ok((public, partial))
    }
}
