//! Contacts: a user's people, with their own names for them and notes, synced to their
//! devices through their log; importing them by username.

use switchboard_core::event::{UserEvent, UserEventKind};
use switchboard_core::model::{Contact, FriendRequest, FriendRequestState, User};
use switchboard_core::values::Username;
use switchboard_core::{ErrorCode, UserId};

use crate::{Principal, ServiceError, ServiceResult, Services};

/// Longest remark, in characters.
const MAX_REMARK: usize = 64;
/// Longest notes, in characters.
const MAX_NOTES: usize = 1024;
/// Most identifiers one import names.
pub const MAX_IMPORT: usize = 1000;
/// Most contacts on one page.
const MAX_PAGE: u32 = 500;

fn text(field: &'static str, s: &str, max: usize) -> ServiceResult<String> {
    let t = s.trim();
    let n = t.chars().count();
    if n > max {
        return Err(ServiceError::invalid(field, format!("must be at most {max} characters, got {n}")));
    }
    if t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ServiceError::invalid(field, "must not contain control characters"));
    }
    Ok(t.to_owned())
}

/// Longest friend request message, in characters.
const MAX_REQUEST_MESSAGE: usize = 256;

fn accepted(events: &[UserEvent]) -> bool {
    events
        .iter()
        .any(|e| matches!(e.kind, UserEventKind::FriendRequestChanged { state: FriendRequestState::Accepted, .. }))
}

fn limit_reached(e: switchboard_store::StoreError, reason: &'static str) -> ServiceError {
    match e {
        switchboard_store::StoreError::FailedPrecondition(m) => ServiceError::precondition(m).because(reason),
        e => e.into(),
    }
}

/// The one refusal a block or a privacy setting answers with: it never says which.
pub(crate) fn not_reachable() -> ServiceError {
    ServiceError::denied("this user does not accept that from you").because("not_reachable")
}

impl Services {
    /// Blocks (`blocked`) or unblocks someone; the caller's devices hear of it, the other
    /// person never does.
    pub async fn set_block(&self, p: &Principal, user: UserId, blocked: bool) -> ServiceResult<()> {
        if user == p.user_id {
            return Err(ServiceError::invalid("user_id", "you cannot block yourself"));
        }
        if let Some(ev) = self.store().set_block(p.user_id, user, blocked, self.now_ms()).await? {
            self.publish_user(ev);
            if blocked {
                self.presence_audience_shrank(vec![p.user_id]);
            }
        }
        Ok(())
    }

    /// Whom the caller blocked (and when), by user id after the cursor, with the next cursor.
    pub async fn blocked_users(
        &self,
        p: &Principal,
        after: Option<UserId>,
        limit: u32,
    ) -> ServiceResult<(Vec<(UserId, i64)>, Option<UserId>)> {
        let limit = if limit == 0 { 100 } else { limit.min(MAX_PAGE) };
        let mut page = self.store().blocked_users(p.user_id, after, limit + 1).await?;
        let more = page.len() > limit as usize;
        page.truncate(limit as usize);
        let next = more.then(|| page.last().map(|(u, _)| *u)).flatten();
        Ok((page, next))
    }

    /// Refuses when any of `users` blocked the caller.
    pub(crate) async fn check_reachable(&self, p: &Principal, users: &[UserId]) -> ServiceResult<()> {
        if self.store().blockers_of(p.user_id, users).await?.is_empty() { Ok(()) } else { Err(not_reachable()) }
    }

    /// `users` without those who blocked `sender` (whom a mention must not notify).
    pub(crate) async fn without_blockers(&self, sender: UserId, mut users: Vec<UserId>) -> ServiceResult<Vec<UserId>> {
        if users.is_empty() {
            return Ok(users);
        }
        let blockers = self.store().blockers_of(sender, &users).await?;
        users.retain(|u| !blockers.contains(u));
        Ok(users)
    }

    /// Asks someone to be friends; returns true when that made them friends at once (they
    /// had asked the caller already).
    pub async fn send_friend_request(&self, p: &Principal, to: UserId, message: &str) -> ServiceResult<bool> {
        let message = text("message", message, MAX_REQUEST_MESSAGE)?;
        if to == p.user_id {
            return Err(ServiceError::invalid("user_id", "you cannot ask yourself"));
        }
        self.check_reachable(p, &[to]).await?;
        if self.contact(p, to).await?.is_some_and(|c| c.mutual) {
            return Err(ServiceError::precondition("you are already each other's contacts").because("already_friends"));
        }
        let (pending, contacts) = (self.config().max_pending_friend_requests, self.config().max_contacts);
        let events = self
            .store()
            .send_friend_request(p.user_id, to, message, pending, contacts, self.now_ms())
            .await
            .map_err(|e| limit_reached(e, "friend_request_limit"))?;
        let made = accepted(&events);
        events.into_iter().for_each(|ev| self.publish_user(ev));
        Ok(made)
    }

    /// Takes back a friend request the caller sent; true when there was one.
    pub async fn cancel_friend_request(&self, p: &Principal, to: UserId) -> ServiceResult<bool> {
        let events = self.store().cancel_friend_request(p.user_id, to, self.now_ms()).await?;
        let had = !events.is_empty();
        events.into_iter().for_each(|ev| self.publish_user(ev));
        Ok(had)
    }

    /// Accepts or declines the friend request `from` sent the caller.
    pub async fn answer_friend_request(&self, p: &Principal, from: UserId, accept: bool) -> ServiceResult<()> {
        let max = self.config().max_contacts;
        let events = match self.store().answer_friend_request(p.user_id, from, accept, max, self.now_ms()).await {
            Err(switchboard_store::StoreError::NotFound(_)) => return Err(ServiceError::not_found("friend request")),
            other => other.map_err(|e| limit_reached(e, "contact_limit"))?,
        };
        events.into_iter().for_each(|ev| self.publish_user(ev));
        Ok(())
    }

    /// The friend requests waiting for the caller's answer (`incoming`) or sent by them,
    /// newest first (the latest 500).
    pub async fn friend_requests(&self, p: &Principal, incoming: bool) -> ServiceResult<Vec<FriendRequest>> {
        Ok(self.store().friend_requests(p.user_id, incoming, 500).await?)
    }

    /// Refuses a new direct chat with someone who is not a mutual contact, when the
    /// server wants friendship first.
    pub(crate) async fn check_friendship(&self, p: &Principal, peer: UserId) -> ServiceResult<()> {
        if !self.config().direct_chats_need_friendship || peer == p.user_id {
            return Ok(());
        }
        if self.contact(p, peer).await?.is_some_and(|c| c.mutual) {
            return Ok(());
        }
        Err(ServiceError::precondition("on this server a direct chat needs a friend request accepted first")
            .because("friendship_required"))
    }

    /// Adds someone to the caller's contacts, or changes the remark and notes of one
    /// already there. Returns the entry.
    pub async fn put_contact(&self, p: &Principal, user: UserId, remark: &str, notes: &str) -> ServiceResult<Contact> {
        let remark = text("remark", remark, MAX_REMARK)?;
        let notes = text("notes", notes, MAX_NOTES)?;
        if user == p.user_id {
            return Err(ServiceError::invalid("user_id", "you cannot add yourself to your contacts"));
        }
        let max = self.config().max_contacts;
        let events = match self.store().put_contact(p.user_id, user, remark, notes, max, self.now_ms()).await {
            Err(switchboard_store::StoreError::FailedPrecondition(m)) => {
                return Err(ServiceError::precondition(m).because("contact_limit"));
            }
            other => other?,
        };
        for ev in events {
            self.publish_user(ev);
        }
        self.contact(p, user).await?.ok_or_else(|| ServiceError::not_found("contact"))
    }

    /// Takes someone off the caller's contacts; true when they were there.
    pub async fn remove_contact(&self, p: &Principal, user: UserId) -> ServiceResult<bool> {
        let events = self.store().remove_contact(p.user_id, user, self.now_ms()).await?;
        let removed = !events.is_empty();
        for ev in events {
            self.publish_user(ev);
        }
        if removed {
            // Either side's audience of contacts or friends may have lost the other.
            self.presence_audience_shrank(vec![p.user_id, user]);
        }
        Ok(removed)
    }

    /// The caller's entry for one user.
    pub async fn contact(&self, p: &Principal, user: UserId) -> ServiceResult<Option<Contact>> {
        Ok(self.store().contacts_among(p.user_id, &[user]).await?.pop())
    }

    /// The caller's contacts by user id after the cursor (a user id), with the next cursor.
    pub async fn contacts(
        &self,
        p: &Principal,
        after: Option<UserId>,
        limit: u32,
    ) -> ServiceResult<(Vec<Contact>, Option<UserId>)> {
        let limit = if limit == 0 { 100 } else { limit.min(MAX_PAGE) };
        let mut page = self.store().contacts(p.user_id, after, limit + 1).await?;
        let more = page.len() > limit as usize;
        page.truncate(limit as usize);
        Ok((page.clone(), more.then(|| page.last().map(|c| c.user_id)).flatten()))
    }

    /// Adds the accounts of these usernames to the caller's contacts (those already there
    /// keep their remark); returns the accounts found, with their entries. E-mail addresses
    /// and phone numbers are refused: accounts have no verified ones in this version.
    pub async fn import_contacts(
        &self,
        p: &Principal,
        usernames: &[String],
        emails: &[String],
        phones: &[String],
    ) -> ServiceResult<Vec<(User, Contact)>> {
        if !emails.is_empty() || !phones.is_empty() {
            return Err(ServiceError::new(
                ErrorCode::Unimplemented,
                "accounts have no verified e-mail addresses or phone numbers in this version; import by username",
            ));
        }
        if usernames.len() > MAX_IMPORT {
            return Err(ServiceError::invalid("usernames", format!("at most {MAX_IMPORT} per import")));
        }
        // Names that are no valid username cannot be anyone's: skipped, like unknown ones.
        let mut names: Vec<String> = usernames
            .iter()
            .filter_map(|n| Username::parse(n.trim().trim_start_matches('@')).ok())
            .map(|u| u.canonical())
            .collect();
        names.sort_unstable();
        names.dedup();
        let found: Vec<User> = self
            .store()
            .users_by_username(&names)
            .await?
            .into_iter()
            .filter(|u| !u.deleted && u.id != p.user_id)
            .collect();
        // Those whose search setting keeps the caller out are not found this way either.
        let found = self.findable(p.user_id, found).await?;
        let found = self.shown_to(p, found).await?;
        let ids: Vec<UserId> = found.iter().map(|u| u.id).collect();
        let known = self.store().contacts_among(p.user_id, &ids).await?;
        let max = self.config().max_contacts;
        for u in found.iter().filter(|u| !known.iter().any(|c| c.user_id == u.id)) {
            match self.store().put_contact(p.user_id, u.id, String::new(), String::new(), max, self.now_ms()).await {
                Ok(events) => events.into_iter().for_each(|ev| self.publish_user(ev)),
                Err(switchboard_store::StoreError::FailedPrecondition(m)) => {
                    return Err(ServiceError::precondition(m).because("contact_limit"));
                }
                Err(e) => return Err(e.into()),
            }
        }
        let entries = self.store().contacts_among(p.user_id, &ids).await?;
        Ok(found
            .into_iter()
            .filter_map(|u| entries.iter().find(|c| c.user_id == u.id).cloned().map(|c| (u, c)))
            .collect())
    }
}
