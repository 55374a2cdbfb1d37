//! Contacts: each user's list of people with their own name for them and notes, mutual
//! when both have the other. Every change is an entry of the owner's log, and of the other
//! person's when their contact's mutual flag turns.

use switchboard_core::UserId;
use switchboard_core::event::{UserEvent, UserEventKind};
use switchboard_core::model::{Contact, FriendRequest, FriendRequestState};

use crate::backends::store_trait;
use crate::rows::{self, first_i64};
use crate::sql::{Row, Tx, args};
use crate::{StoreError, StoreResult};

store_trait! {
    /// Contacts.
    pub trait ContactStore {
        /// Adds `contact` to `owner`'s contacts or replaces its remark and notes; `NotFound`
        /// for an unknown or deleted account, `FailedPrecondition` beyond `max` contacts.
        /// The owner's `ContactChanged`, and the other's when they have the owner (their
        /// entry turns mutual); none when nothing changed.
        write fn put_contact(
            &self,
            owner: UserId,
            contact: UserId,
            remark: String,
            notes: String,
            max: u32,
            now_ms: i64,
        ) -> Vec<UserEvent> => put(owner, contact, &remark, &notes, max, now_ms);
        /// Takes `contact` off `owner`'s contacts, with the same events; none when it was
        /// not there.
        write fn remove_contact(&self, owner: UserId, contact: UserId, now_ms: i64) -> Vec<UserEvent>
            => remove(owner, contact, now_ms);
        /// `owner`'s contacts by user id, after `after`.
        read fn contacts(&self, owner: UserId, after: Option<UserId>, limit: u32) -> Vec<Contact>
            => list(owner, after, limit);
        /// Sends a friend request (at most `max_pending` of the sender's wait at once):
        /// `Sent` in both logs; when `to` had asked `from` already, that request is
        /// accepted instead (both become each other's contacts, within `max_contacts`);
        /// none when the same request waits already. `NotFound` for an unknown or deleted
        /// account, `FailedPrecondition` when they are each other's contacts already or
        /// beyond a limit.
        write fn send_friend_request(
            &self,
            from: UserId,
            to: UserId,
            message: String,
            max_pending: u32,
            max_contacts: u32,
            now_ms: i64,
        ) -> Vec<UserEvent> => send_request(from, to, &message, (max_pending, max_contacts), now_ms);
        /// Takes back a request `from` sent `to`: `Cancelled` in both logs; none when there
        /// is none.
        write fn cancel_friend_request(&self, from: UserId, to: UserId, now_ms: i64) -> Vec<UserEvent>
            => cancel_request(from, to, now_ms);
        /// `to` answers the request `from` sent: accepted (both become each other's
        /// contacts) or declined, in both logs; `NotFound` when there is none.
        write fn answer_friend_request(
            &self,
            to: UserId,
            from: UserId,
            accept: bool,
            max_contacts: u32,
            now_ms: i64,
        ) -> Vec<UserEvent> => answer_request(to, from, accept, max_contacts, now_ms);
        /// The requests waiting for `user`'s answer (`incoming`) or sent by them, newest
        /// first.
        read fn friend_requests(&self, user: UserId, incoming: bool, limit: u32) -> Vec<FriendRequest>
            => requests(user, incoming, limit);
        /// Blocks (`blocked`) or unblocks `user` for `owner`: `BlockChanged` in the owner's log
        /// (only theirs); none when nothing changed; `NotFound` for an unknown account.
        write fn set_block(&self, owner: UserId, user: UserId, blocked: bool, now_ms: i64) -> Option<UserEvent>
            => set_block(owner, user, blocked, now_ms);
        /// Whom `owner` blocked (and when), by user id, after `after`.
        read fn blocked_users(&self, owner: UserId, after: Option<UserId>, limit: u32) -> Vec<(UserId, i64)>
            => blocked_list(owner, after, limit);
        /// Which of `among` blocked `target`.
        read fn blockers_of(&self, target: UserId, among: &[UserId]) -> Vec<UserId> [among = among.to_vec()]
            => blockers(target, &among);
        /// `owner`'s entries for these users (those they have), by user id.
        read fn contacts_among(&self, owner: UserId, ids: &[UserId]) -> Vec<Contact> [ids = ids.to_vec()]
            => among(owner, &ids);
    }
}

const COLS: &str = "c.contact_id, c.remark, c.notes, c.added_at, \
    EXISTS (SELECT 1 FROM contacts r WHERE r.owner_id = c.contact_id AND r.contact_id = c.owner_id) AS mutual";

fn contact(r: &dyn Row) -> StoreResult<Contact> {
    Ok(Contact {
        user_id: UserId::from_raw(r.i64("contact_id")?),
        remark: r.text("remark")?,
        notes: r.text("notes")?,
        added_at_ms: r.i64("added_at")?,
        mutual: r.bool("mutual")?,
    })
}

async fn one(tx: &impl Tx, owner: UserId, id: UserId) -> StoreResult<Option<Contact>> {
    let sql = format!("SELECT {COLS} FROM contacts c WHERE c.owner_id = ?1 AND c.contact_id = ?2");
    tx.one(&sql, args![owner.raw(), id.raw()], contact).await
}

/// The event of `owner`'s entry for `id` as it is now (none: removed).
async fn changed(tx: &impl Tx, owner: UserId, id: UserId, now_ms: i64) -> StoreResult<UserEvent> {
    let now = one(tx, owner, id).await?;
    let kind = UserEventKind::ContactChanged { user_id: id, contact: now };
    rows::append_user_event(tx, owner, kind, now_ms).await
}

async fn put(
    tx: &impl Tx,
    owner: UserId,
    id: UserId,
    remark: &str,
    notes: &str,
    max: u32,
    now_ms: i64,
) -> StoreResult<Vec<UserEvent>> {
    let live = tx.one("SELECT deleted FROM users WHERE id = ?1", args![id.raw()], |r| r.bool("deleted")).await?;
    if live != Some(false) {
        return Err(StoreError::NotFound("user"));
    }
    let before = one(tx, owner, id).await?;
    if before.as_ref().is_some_and(|c| c.remark == remark && c.notes == notes) {
        return Ok(Vec::new());
    }
    tx.exec(
        "INSERT INTO contacts (owner_id, contact_id, remark, notes, added_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (owner_id, contact_id) DO UPDATE SET remark = excluded.remark, notes = excluded.notes",
        args![owner.raw(), id.raw(), remark, notes, now_ms],
    )
    .await?;
    if before.is_none() {
        let held = tx
            .one("SELECT COUNT(*) FROM contacts WHERE owner_id = ?1", args![owner.raw()], first_i64)
            .await?
            .unwrap_or(0);
        if held > i64::from(max) {
            return Err(StoreError::FailedPrecondition(format!("at most {max} contacts")));
        }
    }
    let mut events = vec![changed(tx, owner, id, now_ms).await?];
    let mutual = matches!(&events[0].kind, UserEventKind::ContactChanged { contact: Some(c), .. } if c.mutual);
    if before.is_none() && mutual {
        events.push(changed(tx, id, owner, now_ms).await?);
    }
    Ok(events)
}

async fn remove(tx: &impl Tx, owner: UserId, id: UserId, now_ms: i64) -> StoreResult<Vec<UserEvent>> {
    let before = one(tx, owner, id).await?;
    let Some(before) = before else { return Ok(Vec::new()) };
    tx.exec("DELETE FROM contacts WHERE owner_id = ?1 AND contact_id = ?2", args![owner.raw(), id.raw()]).await?;
    let mut events = vec![changed(tx, owner, id, now_ms).await?];
    if before.mutual {
        events.push(changed(tx, id, owner, now_ms).await?);
    }
    Ok(events)
}

async fn list(tx: &impl Tx, owner: UserId, after: Option<UserId>, limit: u32) -> StoreResult<Vec<Contact>> {
    let sql = format!(
        "SELECT {COLS} FROM contacts c WHERE c.owner_id = ?1 AND c.contact_id > ?2 ORDER BY c.contact_id LIMIT ?3"
    );
    tx.all(&sql, args![owner.raw(), after.map_or(0, UserId::raw), limit], contact).await
}

async fn among(tx: &impl Tx, owner: UserId, ids: &[UserId]) -> StoreResult<Vec<Contact>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let raw: Vec<i64> = ids.iter().map(|i| i.raw()).collect();
    let sql = format!(
        "SELECT {COLS} FROM contacts c WHERE c.owner_id = ?1 AND c.contact_id {} ORDER BY c.contact_id",
        tx.dialect().any("?2")
    );
    tx.all(&sql, args![owner.raw(), raw.as_slice()], contact).await
}

// ---- friend requests -------------------------------------------------------------------

const REQ_COLS: &str = "from_id, to_id, message, created_at";

fn request(r: &dyn Row) -> StoreResult<FriendRequest> {
    Ok(FriendRequest {
        from: UserId::from_raw(r.i64("from_id")?),
        to: UserId::from_raw(r.i64("to_id")?),
        message: r.text("message")?,
        created_at_ms: r.i64("created_at")?,
    })
}

async fn pending(tx: &impl Tx, from: UserId, to: UserId) -> StoreResult<Option<FriendRequest>> {
    let sql = format!("SELECT {REQ_COLS} FROM friend_requests WHERE from_id = ?1 AND to_id = ?2");
    tx.one(&sql, args![from.raw(), to.raw()], request).await
}

/// The same entry in both people's logs.
async fn tell_both(
    tx: &impl Tx,
    request: &FriendRequest,
    state: FriendRequestState,
    now_ms: i64,
) -> StoreResult<Vec<UserEvent>> {
    let mut out = Vec::with_capacity(2);
    for user in [request.from, request.to] {
        let kind = UserEventKind::FriendRequestChanged { request: request.clone(), state };
        out.push(rows::append_user_event(tx, user, kind, now_ms).await?);
    }
    Ok(out)
}

/// `owner` gets `id` as a contact unless they have them already (remark and notes kept).
async fn ensure(tx: &impl Tx, owner: UserId, id: UserId, max: u32, now_ms: i64) -> StoreResult<Vec<UserEvent>> {
    if one(tx, owner, id).await?.is_some() {
        return Ok(Vec::new());
    }
    put(tx, owner, id, "", "", max, now_ms).await
}

/// Both become each other's contacts (the request's log entries first).
async fn befriend(tx: &impl Tx, r: &FriendRequest, max: u32, now_ms: i64) -> StoreResult<Vec<UserEvent>> {
    let mut events = tell_both(tx, r, FriendRequestState::Accepted, now_ms).await?;
    events.extend(ensure(tx, r.from, r.to, max, now_ms).await?);
    events.extend(ensure(tx, r.to, r.from, max, now_ms).await?);
    Ok(events)
}

async fn send_request(
    tx: &impl Tx,
    from: UserId,
    to: UserId,
    message: &str,
    limits: (u32, u32),
    now_ms: i64,
) -> StoreResult<Vec<UserEvent>> {
    let (max_pending, max_contacts) = limits;
    let live = tx.one("SELECT deleted FROM users WHERE id = ?1", args![to.raw()], |r| r.bool("deleted")).await?;
    if live != Some(false) {
        return Err(StoreError::NotFound("user"));
    }
    let theirs = one(tx, to, from).await?;
    if theirs.is_some() && one(tx, from, to).await?.is_some() {
        return Err(StoreError::FailedPrecondition("you are already each other's contacts".into()));
    }
    // They asked first: this answers their request.
    if let Some(r) = pending(tx, to, from).await? {
        tx.exec("DELETE FROM friend_requests WHERE from_id = ?1 AND to_id = ?2", args![to.raw(), from.raw()]).await?;
        return befriend(tx, &r, max_contacts, now_ms).await;
    }
    if pending(tx, from, to).await?.is_some() {
        return Ok(Vec::new());
    }
    let waiting = tx
        .one("SELECT COUNT(*) FROM friend_requests WHERE from_id = ?1", args![from.raw()], first_i64)
        .await?
        .unwrap_or(0);
    if waiting >= i64::from(max_pending) {
        return Err(StoreError::FailedPrecondition(format!("at most {max_pending} friend requests waiting")));
    }
    let r = FriendRequest { from, to, message: message.to_owned(), created_at_ms: now_ms };
    tx.exec(
        "INSERT INTO friend_requests (from_id, to_id, message, created_at) VALUES (?1, ?2, ?3, ?4)",
        args![from.raw(), to.raw(), message, now_ms],
    )
    .await?;
    tell_both(tx, &r, FriendRequestState::Sent, now_ms).await
}

async fn cancel_request(tx: &impl Tx, from: UserId, to: UserId, now_ms: i64) -> StoreResult<Vec<UserEvent>> {
    let Some(r) = pending(tx, from, to).await? else { return Ok(Vec::new()) };
    tx.exec("DELETE FROM friend_requests WHERE from_id = ?1 AND to_id = ?2", args![from.raw(), to.raw()]).await?;
    tell_both(tx, &r, FriendRequestState::Cancelled, now_ms).await
}

async fn answer_request(
    tx: &impl Tx,
    to: UserId,
    from: UserId,
    accept: bool,
    max_contacts: u32,
    now_ms: i64,
) -> StoreResult<Vec<UserEvent>> {
    let r = pending(tx, from, to).await?.ok_or(StoreError::NotFound("friend request"))?;
    tx.exec("DELETE FROM friend_requests WHERE from_id = ?1 AND to_id = ?2", args![from.raw(), to.raw()]).await?;
    if accept {
        befriend(tx, &r, max_contacts, now_ms).await
    } else {
        tell_both(tx, &r, FriendRequestState::Rejected, now_ms).await
    }
}

async fn requests(tx: &impl Tx, user: UserId, incoming: bool, limit: u32) -> StoreResult<Vec<FriendRequest>> {
    let col = if incoming { "to_id" } else { "from_id" };
    let sql = format!("SELECT {REQ_COLS} FROM friend_requests WHERE {col} = ?1 ORDER BY created_at DESC LIMIT ?2");
    tx.all(&sql, args![user.raw(), limit], request).await
}

// ---- blocks --------------------------------------------------------------------------

async fn set_block(
    tx: &impl Tx,
    owner: UserId,
    id: UserId,
    blocked: bool,
    now_ms: i64,
) -> StoreResult<Option<UserEvent>> {
    let changed = if blocked {
        let live = tx.one("SELECT deleted FROM users WHERE id = ?1", args![id.raw()], |r| r.bool("deleted")).await?;
        if live.is_none() {
            return Err(StoreError::NotFound("user"));
        }
        tx.exec(
            "INSERT INTO blocks (owner_id, blocked_id, created_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            args![owner.raw(), id.raw(), now_ms],
        )
        .await?
    } else {
        tx.exec("DELETE FROM blocks WHERE owner_id = ?1 AND blocked_id = ?2", args![owner.raw(), id.raw()]).await?
    };
    if changed == 0 {
        return Ok(None);
    }
    let kind = UserEventKind::BlockChanged { user_id: id, blocked };
    Ok(Some(rows::append_user_event(tx, owner, kind, now_ms).await?))
}

async fn blocked_list(
    tx: &impl Tx,
    owner: UserId,
    after: Option<UserId>,
    limit: u32,
) -> StoreResult<Vec<(UserId, i64)>> {
    tx.all(
        "SELECT blocked_id, created_at FROM blocks WHERE owner_id = ?1 AND blocked_id > ?2 ORDER BY blocked_id LIMIT ?3",
        args![owner.raw(), after.map_or(0, UserId::raw), limit],
        |r| Ok((UserId::from_raw(r.i64("blocked_id")?), r.i64("created_at")?)),
    )
    .await
}

async fn blockers(tx: &impl Tx, target: UserId, among: &[UserId]) -> StoreResult<Vec<UserId>> {
    if among.is_empty() {
        return Ok(Vec::new());
    }
    let raw: Vec<i64> = among.iter().map(|i| i.raw()).collect();
    let sql = format!(
        "SELECT owner_id FROM blocks WHERE blocked_id = ?1 AND owner_id {} ORDER BY owner_id",
        tx.dialect().any("?2")
    );
    tx.all(&sql, args![target.raw(), raw.as_slice()], |r| Ok(UserId::from_raw(r.i64("owner_id")?))).await
}
