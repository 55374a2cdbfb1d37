//! Conversations and members in SQLite.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use switchboard_core::event::UserEventKind;
use switchboard_core::model::{
    AdminRights, ConversationKind, MemberRole, MemberSettings, ServiceAction, ServiceContent,
};
use switchboard_core::{ConversationId, MessageId, UserId};

use super::SqliteStore;
use super::rows::{self, CONV_COLS, CONV_COLS_LEN, MEMBER_COLS};
use crate::{
    ConversationEntry, ConversationStore, CreatedConversation, MembershipChange, NewConversation, SettingsPatch,
    StoreError, StoreResult, Written, service_message,
};
use switchboard_core::event::UserEvent;
use switchboard_core::model::{Conversation, Member};

fn existing(conn: &Connection, sql: &str, a: i64, b: &dyn rusqlite::ToSql) -> StoreResult<Option<Conversation>> {
    let id: Option<i64> = conn.prepare_cached(sql)?.query_row(params![a, b], |r| r.get(0)).optional()?;
    match id {
        Some(id) => rows::load_conversation(conn, ConversationId::from_raw(id)),
        None => Ok(None),
    }
}

fn ensure_users_exist(conn: &Connection, users: &[UserId]) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM users WHERE id = ?1 AND disabled = 0")?;
    for u in users {
        if !stmt.exists([u.raw()])? {
            return Err(StoreError::NotFound("user"));
        }
    }
    Ok(())
}

fn insert_member(
    conn: &Connection,
    id: ConversationId,
    user: UserId,
    role: MemberRole,
    rights: AdminRights,
    joined_seq: u64,
    now_ms: i64,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO members (conversation_id, user_id, role, rights, joined_at, joined_seq, read_seq, delivered_seq, \
         visible_from_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6, 0)",
    )?
    .execute(params![id.raw(), user.raw(), role.as_i64(), rights.to_bits(), now_ms, joined_seq])?;
    Ok(())
}

fn adjust_count(conn: &Connection, id: ConversationId, delta: i64) -> StoreResult<()> {
    conn.prepare_cached("UPDATE conversations SET member_count = member_count + ?2 WHERE id = ?1")?
        .execute(params![id.raw(), delta])?;
    Ok(())
}

fn service(
    conn: &Connection,
    w: &mut Written,
    id: ConversationId,
    actor: UserId,
    content: ServiceContent,
    now_ms: i64,
) -> StoreResult<()> {
    w.conv_events.push(rows::insert_message(conn, &service_message(id, actor, content), now_ms)?);
    Ok(())
}

fn svc(action: ServiceAction, user_ids: Vec<UserId>, title: String) -> ServiceContent {
    ServiceContent { action, user_ids, title, target_id: 0 }
}

fn require_member(conn: &Connection, id: ConversationId, user: UserId) -> StoreResult<Member> {
    rows::load_member(conn, id, user)?.ok_or(StoreError::NotFound("member"))
}

fn create(conn: &Connection, new: NewConversation) -> StoreResult<CreatedConversation> {
    let direct_pair = if new.kind == ConversationKind::Direct {
        let peer =
            *new.members.first().ok_or(StoreError::FailedPrecondition("a direct conversation needs a peer".into()))?;
        let pair = (new.creator.min(peer), new.creator.max(peer));
        let sql = "SELECT id FROM conversations WHERE direct_a = ?1 AND direct_b = ?2";
        if let Some(c) = existing(conn, sql, pair.0.raw(), &pair.1.raw())? {
            return Ok(CreatedConversation { conversation: c, created: false, written: Written::default() });
        }
        Some(pair)
    } else {
        None
    };
    if let Some(key) = &new.client_key {
        let sql = "SELECT id FROM conversations WHERE creator_id = ?1 AND client_key = ?2";
        if let Some(c) = existing(conn, sql, new.creator.raw(), key)? {
            return Ok(CreatedConversation { conversation: c, created: false, written: Written::default() });
        }
    }
    if let Some((parent, root)) = new.parent {
        let sql = "SELECT id FROM conversations WHERE parent_id = ?1 AND root_message_id = ?2";
        if let Some(c) = existing(conn, sql, parent.raw(), &root.raw())? {
            return Ok(CreatedConversation { conversation: c, created: false, written: Written::default() });
        }
    }
    let mut members: Vec<UserId> = new.members.iter().copied().filter(|u| *u != new.creator).collect();
    members.sort_unstable();
    members.dedup();
    ensure_users_exist(conn, &members)?;
    let id: i64 = conn.prepare_cached("INSERT INTO conversations (kind, title, about, owner_id, creator_id, client_key, member_count, created_at, \
         last_activity_at, direct_a, direct_b, space_id, parent_id, root_message_id) \
         VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING id")?.query_row(params![
            new.kind.as_str(),
            new.title,
            new.about,
            new.creator.raw(),
            new.client_key,
            members.len() as i64 + 1,
            new.now_ms,
            direct_pair.map(|p| p.0.raw()),
            direct_pair.map(|p| p.1.raw()),
            new.space_id.map(|s| s.raw()),
            new.parent.map(|p| p.0.raw()),
            new.parent.map(|p| p.1.raw()),
        ],
        |r| r.get(0),
    )?;
    let id = ConversationId::from_raw(id);
    let creator_role = crate::creator_role(new.kind);
    insert_member(conn, id, new.creator, creator_role, AdminRights::default(), 0, new.now_ms)?;
    for u in &members {
        insert_member(conn, id, *u, MemberRole::Member, AdminRights::default(), 0, new.now_ms)?;
    }
    let mut written = Written::default();
    if direct_pair.is_none() {
        service(
            conn,
            &mut written,
            id,
            new.creator,
            svc(ServiceAction::Created, members.clone(), new.title.clone()),
            new.now_ms,
        )?;
    }
    for u in std::iter::once(new.creator).chain(members) {
        let kind = UserEventKind::ConversationJoined { conversation_id: id, joined_at_seq: 0 };
        written.user_events.push(rows::append_user_event(conn, u, kind, new.now_ms)?);
    }
    Ok(CreatedConversation { conversation: rows::require_conversation(conn, id)?, created: true, written })
}

fn change(
    conn: &Connection,
    id: ConversationId,
    actor: UserId,
    change: MembershipChange,
    now: i64,
) -> StoreResult<Written> {
    let conv = rows::require_conversation(conn, id)?;
    let mut w = Written::default();
    match change {
        MembershipChange::Add(users) => {
            let mut added = Vec::new();
            for u in users {
                if rows::load_member(conn, id, u)?.is_none() && !added.contains(&u) {
                    added.push(u);
                }
            }
            if added.is_empty() {
                return Ok(w);
            }
            ensure_users_exist(conn, &added)?;
            for u in &added {
                insert_member(conn, id, *u, MemberRole::Member, AdminRights::default(), conv.last_seq, now)?;
            }
            adjust_count(conn, id, added.len() as i64)?;
            service(conn, &mut w, id, actor, svc(ServiceAction::MembersAdded, added.clone(), String::new()), now)?;
            for u in added {
                let kind = UserEventKind::ConversationJoined { conversation_id: id, joined_at_seq: conv.last_seq };
                w.user_events.push(rows::append_user_event(conn, u, kind, now)?);
            }
        }
        MembershipChange::Remove(user) => remove(conn, &mut w, id, actor, user, ServiceAction::MemberRemoved, now)?,
        MembershipChange::Ban(user) => remove(conn, &mut w, id, actor, user, ServiceAction::MemberBanned, now)?,
        MembershipChange::Leave => remove(conn, &mut w, id, actor, actor, ServiceAction::MemberLeft, now)?,
        MembershipChange::Join => {
            if rows::load_member(conn, id, actor)?.is_some() {
                return Err(StoreError::AlreadyExists("membership"));
            }
            ensure_users_exist(conn, &[actor])?;
            insert_member(conn, id, actor, MemberRole::Member, AdminRights::default(), conv.last_seq, now)?;
            adjust_count(conn, id, 1)?;
            service(conn, &mut w, id, actor, svc(ServiceAction::MemberJoined, vec![actor], String::new()), now)?;
            let kind = UserEventKind::ConversationJoined { conversation_id: id, joined_at_seq: conv.last_seq };
            w.user_events.push(rows::append_user_event(conn, actor, kind, now)?);
        }
        MembershipChange::Grant(users) => {
            let mut live = conn.prepare_cached("SELECT 1 FROM users WHERE id = ?1 AND disabled = 0")?;
            let mut n = 0;
            for u in users {
                if rows::load_member(conn, id, u)?.is_some() || !live.exists([u.raw()])? {
                    continue;
                }
                insert_member(conn, id, u, MemberRole::Member, AdminRights::default(), conv.last_seq, now)?;
                let kind = UserEventKind::ConversationJoined { conversation_id: id, joined_at_seq: conv.last_seq };
                w.user_events.push(rows::append_user_event(conn, u, kind, now)?);
                n += 1;
            }
            adjust_count(conn, id, n)?;
        }
        MembershipChange::Revoke(users) => {
            let mut n = 0;
            for u in users {
                let gone = conn
                    .prepare_cached("DELETE FROM members WHERE conversation_id = ?1 AND user_id = ?2")?
                    .execute(params![id.raw(), u.raw()])?;
                if gone == 0 {
                    continue;
                }
                let kind =
                    UserEventKind::ConversationLeft { conversation_id: id, removed: true, left_at_seq: conv.last_seq };
                w.user_events.push(rows::append_user_event(conn, u, kind, now)?);
                n += 1;
            }
            adjust_count(conn, id, -n)?;
        }
        MembershipChange::SetRole(user, role, rights) => {
            let target = require_member(conn, id, user)?;
            if target.role == MemberRole::Owner || role == MemberRole::Owner {
                return Err(StoreError::FailedPrecondition("use TransferOwnership to change the owner".into()));
            }
            let rights = if role == MemberRole::Admin { rights } else { AdminRights::default() };
            conn.prepare_cached(
                "UPDATE members SET role = ?3, rights = ?4 WHERE conversation_id = ?1 AND user_id = ?2",
            )?
            .execute(params![id.raw(), user.raw(), role.as_i64(), rights.to_bits()])?;
            let action =
                if role == MemberRole::Admin { ServiceAction::AdminPromoted } else { ServiceAction::AdminDemoted };
            service(conn, &mut w, id, actor, svc(action, vec![user], String::new()), now)?;
        }
        MembershipChange::TransferOwnership(user) => {
            require_member(conn, id, user)?;
            conn.prepare_cached(
                "UPDATE members SET role = ?3, rights = 0 WHERE conversation_id = ?1 AND user_id = ?2",
            )?
            .execute(params![id.raw(), user.raw(), MemberRole::Owner.as_i64()])?;
            conn.prepare_cached(
                "UPDATE members SET role = ?3, rights = ?4 WHERE conversation_id = ?1 AND user_id = ?2",
            )?
            .execute(params![
                id.raw(),
                actor.raw(),
                MemberRole::Admin.as_i64(),
                AdminRights::ALL.to_bits()
            ])?;
            conn.prepare_cached("UPDATE conversations SET owner_id = ?2 WHERE id = ?1")?
                .execute(params![id.raw(), user.raw()])?;
            service(conn, &mut w, id, actor, svc(ServiceAction::OwnershipTransferred, vec![user], String::new()), now)?;
        }
    }
    Ok(w)
}

fn remove(
    conn: &Connection,
    w: &mut Written,
    id: ConversationId,
    actor: UserId,
    user: UserId,
    action: ServiceAction,
    now: i64,
) -> StoreResult<()> {
    require_member(conn, id, user)?;
    let removed = action != ServiceAction::MemberLeft;
    // The service message goes first so that the leaving member's log ends with it.
    service(conn, w, id, actor, svc(action, vec![user], String::new()), now)?;
    conn.prepare_cached("DELETE FROM members WHERE conversation_id = ?1 AND user_id = ?2")?
        .execute(params![id.raw(), user.raw()])?;
    adjust_count(conn, id, -1)?;
    let left_at_seq = w.conv_events.last().map_or(0, |e| e.seq);
    let kind = UserEventKind::ConversationLeft { conversation_id: id, removed, left_at_seq };
    w.user_events.push(rows::append_user_event(conn, user, kind, now)?);
    Ok(())
}

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn create_conversation(&self, new: NewConversation) -> StoreResult<CreatedConversation> {
        self.write(move |conn| create(conn, new)).await
    }

    async fn conversation(&self, id: ConversationId) -> StoreResult<Option<Conversation>> {
        self.read(move |conn| rows::load_conversation(conn, id)).await
    }

    async fn entry(&self, id: ConversationId, user_id: UserId) -> StoreResult<Option<ConversationEntry>> {
        self.read(move |conn| {
            let sql = format!(
                "SELECT {CONV_COLS}, {MEMBER_COLS} FROM members m JOIN conversations c ON c.id = m.conversation_id \
                 WHERE m.conversation_id = ?1 AND m.user_id = ?2"
            );
            Ok(conn
                .query_row(&sql, params![id.raw(), user_id.raw()], |r| {
                    Ok(ConversationEntry {
                        conversation: rows::conversation_at(r, 0)?,
                        member: rows::member_at(r, CONV_COLS_LEN)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    async fn entries(
        &self,
        user_id: UserId,
        after: Option<(i64, ConversationId)>,
        limit: u32,
    ) -> StoreResult<Vec<ConversationEntry>> {
        let (t, c) = after.map_or((i64::MAX, i64::MAX), |(t, c)| (t, c.raw()));
        self.read(move |conn| {
            let sql = format!(
                "SELECT {CONV_COLS}, {MEMBER_COLS} FROM members m JOIN conversations c ON c.id = m.conversation_id \
                 WHERE m.user_id = ?1 AND (c.last_activity_at, c.id) < (?2, ?3) \
                 ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?4"
            );
            let mut stmt = conn.prepare(&sql)?;
            let v = stmt
                .query_map(params![user_id.raw(), t, c, limit], |r| {
                    Ok(ConversationEntry {
                        conversation: rows::conversation_at(r, 0)?,
                        member: rows::member_at(r, CONV_COLS_LEN)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(v)
        })
        .await
    }

    async fn positions(&self, user_id: UserId) -> StoreResult<Vec<(ConversationId, u64, u64)>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT c.id, c.last_seq, m.joined_seq FROM members m JOIN conversations c ON c.id = m.conversation_id \
                 WHERE m.user_id = ?1",
            )?;
            let v = stmt
                .query_map([user_id.raw()], |r| Ok((ConversationId::from_raw(r.get(0)?), r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?;
            Ok(v)
        })
        .await
    }

    async fn member(&self, id: ConversationId, user_id: UserId) -> StoreResult<Option<Member>> {
        self.read(move |conn| rows::load_member(conn, id, user_id)).await
    }

    async fn members(&self, id: ConversationId, after: Option<(i64, UserId)>, limit: u32) -> StoreResult<Vec<Member>> {
        let (t, u) = after.map_or((i64::MIN, 0), |(t, u)| (t, u.raw()));
        self.read(move |conn| {
            let sql = format!(
                "SELECT {MEMBER_COLS} FROM members m WHERE m.conversation_id = ?1 AND (m.joined_at, m.user_id) > (?2, ?3) \
                 ORDER BY m.joined_at, m.user_id LIMIT ?4"
            );
            let mut stmt = conn.prepare(&sql)?;
            let v = stmt.query_map(params![id.raw(), t, u, limit], |r| rows::member_at(r, 0))?.collect::<Result<_, _>>()?;
            Ok(v)
        })
        .await
    }

    async fn member_ids(&self, id: ConversationId) -> StoreResult<Vec<UserId>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached("SELECT user_id FROM members WHERE conversation_id = ?1")?;
            let v = stmt.query_map([id.raw()], |r| Ok(UserId::from_raw(r.get(0)?)))?.collect::<Result<_, _>>()?;
            Ok(v)
        })
        .await
    }

    async fn update_info(
        &self,
        id: ConversationId,
        actor: UserId,
        title: Option<String>,
        about: Option<String>,
        now_ms: i64,
    ) -> StoreResult<Written> {
        self.write(move |conn| {
            rows::require_conversation(conn, id)?;
            let mut w = Written::default();
            if let Some(t) = title {
                conn.prepare_cached("UPDATE conversations SET title = ?2 WHERE id = ?1")?
                    .execute(params![id.raw(), t])?;
                service(conn, &mut w, id, actor, svc(ServiceAction::TitleChanged, vec![], t), now_ms)?;
            }
            if let Some(a) = about {
                conn.prepare_cached("UPDATE conversations SET about = ?2 WHERE id = ?1")?
                    .execute(params![id.raw(), a])?;
                service(conn, &mut w, id, actor, svc(ServiceAction::AboutChanged, vec![], a), now_ms)?;
            }
            Ok(w)
        })
        .await
    }

    async fn change_membership(
        &self,
        id: ConversationId,
        actor: UserId,
        c: MembershipChange,
        now_ms: i64,
    ) -> StoreResult<Written> {
        self.write(move |conn| change(conn, id, actor, c, now_ms)).await
    }

    async fn post_service(
        &self,
        id: ConversationId,
        actor: UserId,
        content: ServiceContent,
        now_ms: i64,
    ) -> StoreResult<Written> {
        self.write(move |conn| {
            rows::require_conversation(conn, id)?;
            let mut w = Written::default();
            service(conn, &mut w, id, actor, content, now_ms)?;
            Ok(w)
        })
        .await
    }

    async fn conversations(&self, ids: &[ConversationId]) -> StoreResult<Vec<Conversation>> {
        let ids: Vec<i64> = ids.iter().map(|i| i.raw()).collect();
        self.read(move |conn| {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let sql =
                format!("SELECT {CONV_COLS} FROM conversations c WHERE c.id IN ({})", rows::placeholders(ids.len()));
            let mut stmt = conn.prepare(&sql)?;
            let v = stmt
                .query_map(params_from_iter(ids.iter()), |r| rows::conversation_at(r, 0))?
                .collect::<Result<_, _>>()?;
            Ok(v)
        })
        .await
    }

    async fn threads(
        &self,
        parent: ConversationId,
        roots: &[MessageId],
        after: Option<(i64, ConversationId)>,
        limit: u32,
    ) -> StoreResult<Vec<Conversation>> {
        let roots = roots.to_vec();
        self.read(move |conn| {
            if let (Some(lo), Some(hi)) = (roots.iter().min(), roots.iter().max()) {
                let found = rows::threads_rooted_between(conn, parent, *lo, *hi)?;
                return Ok(crate::pick_threads(found, &roots, after, limit));
            }
            let (t, c) = after.map_or((i64::MAX, i64::MAX), |(t, c)| (t, c.raw()));
            let sql = format!(
                "SELECT {CONV_COLS} FROM conversations c WHERE c.parent_id = ?1 AND (c.last_activity_at, c.id) < (?2, ?3) \
                 ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?4"
            );
            let v = conn
                .prepare_cached(&sql)?
                .query_map(params![parent.raw(), t, c, limit], |r| rows::conversation_at(r, 0))?
                .collect::<Result<_, _>>()?;
            Ok(v)
        })
        .await
    }

    async fn update_settings(
        &self,
        id: ConversationId,
        user_id: UserId,
        patch: SettingsPatch,
        now_ms: i64,
    ) -> StoreResult<(MemberSettings, UserEvent)> {
        self.write(move |conn| {
            let m = require_member(conn, id, user_id)?;
            let s = patch.apply(&m.settings);
            conn.prepare_cached(
                "UPDATE members SET muted_until = ?3, pinned = ?4, archived = ?5, draft = ?6 \
                 WHERE conversation_id = ?1 AND user_id = ?2",
            )?
            .execute(params![id.raw(), user_id.raw(), s.muted_until_ms, s.pinned, s.archived, s.draft])?;
            let kind = UserEventKind::SettingsChanged { conversation_id: id, settings: s.clone() };
            let ev = rows::append_user_event(conn, user_id, kind, now_ms)?;
            Ok((s, ev))
        })
        .await
    }
}
