//! Conversations and members in PostgreSQL.

use async_trait::async_trait;
use switchboard_core::event::{UserEvent, UserEventKind};
use switchboard_core::model::{
    AdminRights, Conversation, ConversationKind, Member, MemberRole, MemberSettings, ServiceAction, ServiceContent,
};
use switchboard_core::{ConversationId, MessageId, UserId};
use tokio_postgres::{GenericClient, Transaction};

use super::rows::{self, CONV_COLS, CONV_COLS_LEN, MEMBER_COLS, i};
use super::{PgStore, in_tx};
use crate::{
    ConversationEntry, ConversationStore, CreatedConversation, MembershipChange, NewConversation, SettingsPatch,
    StoreError, StoreResult, Written, service_message,
};

async fn existing(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> StoreResult<Option<Conversation>> {
    match c.query_opt(sql, params).await? {
        Some(r) => rows::load_conversation(c, ConversationId::from_raw(r.try_get(0)?)).await,
        None => Ok(None),
    }
}

async fn ensure_users_exist(c: &impl GenericClient, users: &[UserId]) -> StoreResult<()> {
    for u in users {
        if c.query_opt("SELECT 1 FROM users WHERE id = $1 AND NOT disabled", &[&u.raw()]).await?.is_none() {
            return Err(StoreError::NotFound("user"));
        }
    }
    Ok(())
}

async fn insert_member(
    c: &impl GenericClient,
    id: ConversationId,
    user: UserId,
    role: MemberRole,
    joined_seq: u64,
    now_ms: i64,
) -> StoreResult<()> {
    c.execute(
        "INSERT INTO members (conversation_id, user_id, role, rights, joined_at, joined_seq, read_seq, delivered_seq, \
         visible_from_seq) VALUES ($1, $2, $3, 0, $4, $5, $5, $5, 0)",
        &[&id.raw(), &user.raw(), &role.as_i64(), &now_ms, &i(joined_seq)],
    )
    .await?;
    Ok(())
}

async fn adjust_count(c: &impl GenericClient, id: ConversationId, delta: i64) -> StoreResult<()> {
    c.execute("UPDATE conversations SET member_count = member_count + $2 WHERE id = $1", &[&id.raw(), &delta]).await?;
    Ok(())
}

async fn service(
    c: &impl GenericClient,
    w: &mut Written,
    id: ConversationId,
    actor: UserId,
    content: ServiceContent,
    now_ms: i64,
) -> StoreResult<()> {
    w.conv_events.push(rows::insert_message(c, &service_message(id, actor, content), now_ms).await?);
    Ok(())
}

fn svc(action: ServiceAction, user_ids: Vec<UserId>, title: String) -> ServiceContent {
    ServiceContent { action, user_ids, title, target_id: 0 }
}

async fn require_member(c: &impl GenericClient, id: ConversationId, user: UserId) -> StoreResult<Member> {
    rows::load_member(c, id, user).await?.ok_or(StoreError::NotFound("member"))
}

async fn create(tx: &Transaction<'_>, new: NewConversation) -> StoreResult<CreatedConversation> {
    let unchanged = |c| Ok(CreatedConversation { conversation: c, created: false, written: Written::default() });
    let direct_pair = if new.kind == ConversationKind::Direct {
        let peer =
            *new.members.first().ok_or(StoreError::FailedPrecondition("a direct conversation needs a peer".into()))?;
        let pair = (new.creator.min(peer), new.creator.max(peer));
        // Serialise creators of the same pair so the unique index never fires mid-way.
        tx.execute("SELECT pg_advisory_xact_lock($1, $2)", &[&(pair.0.raw() as i32), &(pair.1.raw() as i32)]).await?;
        let sql = "SELECT id FROM conversations WHERE direct_a = $1 AND direct_b = $2";
        if let Some(c) = existing(tx, sql, &[&pair.0.raw(), &pair.1.raw()]).await? {
            return unchanged(c);
        }
        Some(pair)
    } else {
        None
    };
    if let Some(key) = &new.client_key {
        let sql = "SELECT id FROM conversations WHERE creator_id = $1 AND client_key = $2";
        if let Some(c) = existing(tx, sql, &[&new.creator.raw(), key]).await? {
            return unchanged(c);
        }
    }
    if let Some((parent, root)) = new.parent {
        // One thread per root: serialise starters of the same root.
        tx.execute("SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE", &[&parent.raw()]).await?;
        let sql = "SELECT id FROM conversations WHERE parent_id = $1 AND root_message_id = $2";
        if let Some(c) = existing(tx, sql, &[&parent.raw(), &root.raw()]).await? {
            return unchanged(c);
        }
    }
    let mut members: Vec<UserId> = new.members.iter().copied().filter(|u| *u != new.creator).collect();
    members.sort_unstable();
    members.dedup();
    ensure_users_exist(tx, &members).await?;
    let row = tx
        .query_one(
            "INSERT INTO conversations (kind, title, about, owner_id, creator_id, client_key, member_count, created_at, \
             last_activity_at, direct_a, direct_b, space_id, parent_id, root_message_id) \
             VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $7, $8, $9, $10, $11, $12) RETURNING id",
            &[
                &new.kind.as_str(),
                &new.title,
                &new.about,
                &new.creator.raw(),
                &new.client_key,
                &(members.len() as i64 + 1),
                &new.now_ms,
                &direct_pair.map(|p| p.0.raw()),
                &direct_pair.map(|p| p.1.raw()),
                &new.space_id.map(|s| s.raw()),
                &new.parent.map(|p| p.0.raw()),
                &new.parent.map(|p| p.1.raw()),
            ],
        )
        .await?;
    let id = ConversationId::from_raw(row.try_get(0)?);
    let creator_role = crate::creator_role(new.kind);
    insert_member(tx, id, new.creator, creator_role, 0, new.now_ms).await?;
    for u in &members {
        insert_member(tx, id, *u, MemberRole::Member, 0, new.now_ms).await?;
    }
    let mut written = Written::default();
    if direct_pair.is_none() {
        let content = svc(ServiceAction::Created, members.clone(), new.title.clone());
        service(tx, &mut written, id, new.creator, content, new.now_ms).await?;
    }
    for u in std::iter::once(new.creator).chain(members) {
        let kind = UserEventKind::ConversationJoined { conversation_id: id, joined_at_seq: 0 };
        written.user_events.push(rows::append_user_event(tx, u, kind, new.now_ms).await?);
    }
    Ok(CreatedConversation { conversation: rows::require_conversation(tx, id).await?, created: true, written })
}

async fn remove(
    tx: &Transaction<'_>,
    w: &mut Written,
    id: ConversationId,
    actor: UserId,
    user: UserId,
    action: ServiceAction,
    now: i64,
) -> StoreResult<()> {
    require_member(tx, id, user).await?;
    let removed = action != ServiceAction::MemberLeft;
    service(tx, w, id, actor, svc(action, vec![user], String::new()), now).await?;
    tx.execute("DELETE FROM members WHERE conversation_id = $1 AND user_id = $2", &[&id.raw(), &user.raw()]).await?;
    adjust_count(tx, id, -1).await?;
    let left_at_seq = w.conv_events.last().map_or(0, |e| e.seq);
    let kind = UserEventKind::ConversationLeft { conversation_id: id, removed, left_at_seq };
    w.user_events.push(rows::append_user_event(tx, user, kind, now).await?);
    Ok(())
}

async fn change(
    tx: &Transaction<'_>,
    id: ConversationId,
    actor: UserId,
    change: MembershipChange,
    now: i64,
) -> StoreResult<Written> {
    // Lock the conversation row first: membership changes of one conversation serialise.
    tx.execute("SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE", &[&id.raw()]).await?;
    let conv = rows::require_conversation(tx, id).await?;
    let mut w = Written::default();
    match change {
        MembershipChange::Add(users) => {
            let mut added = Vec::new();
            for u in users {
                if rows::load_member(tx, id, u).await?.is_none() && !added.contains(&u) {
                    added.push(u);
                }
            }
            if added.is_empty() {
                return Ok(w);
            }
            ensure_users_exist(tx, &added).await?;
            for u in &added {
                insert_member(tx, id, *u, MemberRole::Member, conv.last_seq, now).await?;
            }
            adjust_count(tx, id, added.len() as i64).await?;
            service(tx, &mut w, id, actor, svc(ServiceAction::MembersAdded, added.clone(), String::new()), now).await?;
            for u in added {
                let kind = UserEventKind::ConversationJoined { conversation_id: id, joined_at_seq: conv.last_seq };
                w.user_events.push(rows::append_user_event(tx, u, kind, now).await?);
            }
        }
        MembershipChange::Remove(user) => {
            remove(tx, &mut w, id, actor, user, ServiceAction::MemberRemoved, now).await?
        }
        MembershipChange::Ban(user) => remove(tx, &mut w, id, actor, user, ServiceAction::MemberBanned, now).await?,
        MembershipChange::Leave => remove(tx, &mut w, id, actor, actor, ServiceAction::MemberLeft, now).await?,
        MembershipChange::Join => {
            if rows::load_member(tx, id, actor).await?.is_some() {
                return Err(StoreError::AlreadyExists("membership"));
            }
            ensure_users_exist(tx, &[actor]).await?;
            insert_member(tx, id, actor, MemberRole::Member, conv.last_seq, now).await?;
            adjust_count(tx, id, 1).await?;
            service(tx, &mut w, id, actor, svc(ServiceAction::MemberJoined, vec![actor], String::new()), now).await?;
            let kind = UserEventKind::ConversationJoined { conversation_id: id, joined_at_seq: conv.last_seq };
            w.user_events.push(rows::append_user_event(tx, actor, kind, now).await?);
        }
        MembershipChange::Grant(users) => {
            let mut n = 0;
            for u in users {
                if rows::load_member(tx, id, u).await?.is_some()
                    || tx.query_opt("SELECT 1 FROM users WHERE id = $1 AND NOT disabled", &[&u.raw()]).await?.is_none()
                {
                    continue;
                }
                insert_member(tx, id, u, MemberRole::Member, conv.last_seq, now).await?;
                let kind = UserEventKind::ConversationJoined { conversation_id: id, joined_at_seq: conv.last_seq };
                w.user_events.push(rows::append_user_event(tx, u, kind, now).await?);
                n += 1;
            }
            adjust_count(tx, id, n).await?;
        }
        MembershipChange::Revoke(users) => {
            let mut n = 0;
            for u in users {
                let gone = tx
                    .execute("DELETE FROM members WHERE conversation_id = $1 AND user_id = $2", &[&id.raw(), &u.raw()])
                    .await?;
                if gone == 0 {
                    continue;
                }
                let kind =
                    UserEventKind::ConversationLeft { conversation_id: id, removed: true, left_at_seq: conv.last_seq };
                w.user_events.push(rows::append_user_event(tx, u, kind, now).await?);
                n += 1;
            }
            adjust_count(tx, id, -n).await?;
        }
        MembershipChange::SetRole(user, role, rights) => {
            let target = require_member(tx, id, user).await?;
            if target.role == MemberRole::Owner || role == MemberRole::Owner {
                return Err(StoreError::FailedPrecondition("use TransferOwnership to change the owner".into()));
            }
            let rights = if role == MemberRole::Admin { rights } else { AdminRights::default() };
            tx.execute(
                "UPDATE members SET role = $3, rights = $4 WHERE conversation_id = $1 AND user_id = $2",
                &[&id.raw(), &user.raw(), &role.as_i64(), &rights.to_bits()],
            )
            .await?;
            let action =
                if role == MemberRole::Admin { ServiceAction::AdminPromoted } else { ServiceAction::AdminDemoted };
            service(tx, &mut w, id, actor, svc(action, vec![user], String::new()), now).await?;
        }
        MembershipChange::TransferOwnership(user) => {
            require_member(tx, id, user).await?;
            tx.execute(
                "UPDATE members SET role = $3, rights = 0 WHERE conversation_id = $1 AND user_id = $2",
                &[&id.raw(), &user.raw(), &MemberRole::Owner.as_i64()],
            )
            .await?;
            tx.execute(
                "UPDATE members SET role = $3, rights = $4 WHERE conversation_id = $1 AND user_id = $2",
                &[&id.raw(), &actor.raw(), &MemberRole::Admin.as_i64(), &AdminRights::ALL.to_bits()],
            )
            .await?;
            tx.execute("UPDATE conversations SET owner_id = $2 WHERE id = $1", &[&id.raw(), &user.raw()]).await?;
            service(tx, &mut w, id, actor, svc(ServiceAction::OwnershipTransferred, vec![user], String::new()), now)
                .await?;
        }
    }
    Ok(w)
}

fn entry(r: &tokio_postgres::Row) -> StoreResult<ConversationEntry> {
    Ok(ConversationEntry { conversation: rows::conversation_at(r, 0)?, member: rows::member_at(r, CONV_COLS_LEN)? })
}

#[async_trait]
impl ConversationStore for PgStore {
    async fn create_conversation(&self, new: NewConversation) -> StoreResult<CreatedConversation> {
        in_tx!(self, |tx| create(tx, new))
    }

    async fn conversation(&self, id: ConversationId) -> StoreResult<Option<Conversation>> {
        let client = self.client().await?;
        rows::load_conversation(&**client, id).await
    }

    async fn entry(&self, id: ConversationId, user_id: UserId) -> StoreResult<Option<ConversationEntry>> {
        let client = self.client().await?;
        let sql = format!(
            "SELECT {CONV_COLS}, {MEMBER_COLS} FROM members m JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.conversation_id = $1 AND m.user_id = $2"
        );
        client.query_opt(&sql, &[&id.raw(), &user_id.raw()]).await?.as_ref().map(entry).transpose()
    }

    async fn entries(
        &self,
        user_id: UserId,
        after: Option<(i64, ConversationId)>,
        limit: u32,
    ) -> StoreResult<Vec<ConversationEntry>> {
        let (t, c) = after.map_or((i64::MAX, i64::MAX), |(t, c)| (t, c.raw()));
        let client = self.client().await?;
        let sql = format!(
            "SELECT {CONV_COLS}, {MEMBER_COLS} FROM members m JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.user_id = $1 AND (c.last_activity_at, c.id) < ($2, $3) \
             ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $4"
        );
        client.query(&sql, &[&user_id.raw(), &t, &c, &i64::from(limit)]).await?.iter().map(entry).collect()
    }

    async fn positions(&self, user_id: UserId) -> StoreResult<Vec<(ConversationId, u64, u64)>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT c.id, c.last_seq, m.joined_seq FROM members m JOIN conversations c ON c.id = m.conversation_id \
                 WHERE m.user_id = $1",
                &[&user_id.raw()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let (c, last, joined): (i64, i64, i64) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
                Ok((ConversationId::from_raw(c), last as u64, joined as u64))
            })
            .collect()
    }

    async fn member(&self, id: ConversationId, user_id: UserId) -> StoreResult<Option<Member>> {
        let client = self.client().await?;
        rows::load_member(&**client, id, user_id).await
    }

    async fn members(&self, id: ConversationId, after: Option<(i64, UserId)>, limit: u32) -> StoreResult<Vec<Member>> {
        let (t, u) = after.map_or((i64::MIN, 0), |(t, u)| (t, u.raw()));
        let client = self.client().await?;
        let sql = format!(
            "SELECT {MEMBER_COLS} FROM members m WHERE m.conversation_id = $1 AND (m.joined_at, m.user_id) > ($2, $3) \
             ORDER BY m.joined_at, m.user_id LIMIT $4"
        );
        client
            .query(&sql, &[&id.raw(), &t, &u, &i64::from(limit)])
            .await?
            .iter()
            .map(|r| rows::member_at(r, 0))
            .collect()
    }

    async fn member_ids(&self, id: ConversationId) -> StoreResult<Vec<UserId>> {
        let client = self.client().await?;
        let rows = client.query("SELECT user_id FROM members WHERE conversation_id = $1", &[&id.raw()]).await?;
        rows.iter().map(|r| Ok(UserId::from_raw(r.try_get(0)?))).collect()
    }

    async fn update_info(
        &self,
        id: ConversationId,
        actor: UserId,
        title: Option<String>,
        about: Option<String>,
        now_ms: i64,
    ) -> StoreResult<Written> {
        in_tx!(self, |tx| async {
            rows::require_conversation(tx, id).await?;
            let mut w = Written::default();
            if let Some(t) = title {
                tx.execute("UPDATE conversations SET title = $2 WHERE id = $1", &[&id.raw(), &t]).await?;
                service(tx, &mut w, id, actor, svc(ServiceAction::TitleChanged, vec![], t), now_ms).await?;
            }
            if let Some(a) = about {
                tx.execute("UPDATE conversations SET about = $2 WHERE id = $1", &[&id.raw(), &a]).await?;
                service(tx, &mut w, id, actor, svc(ServiceAction::AboutChanged, vec![], a), now_ms).await?;
            }
            Ok(w)
        })
    }

    async fn change_membership(
        &self,
        id: ConversationId,
        actor: UserId,
        c: MembershipChange,
        now_ms: i64,
    ) -> StoreResult<Written> {
        in_tx!(self, |tx| change(tx, id, actor, c, now_ms))
    }

    async fn post_service(
        &self,
        id: ConversationId,
        actor: UserId,
        content: ServiceContent,
        now_ms: i64,
    ) -> StoreResult<Written> {
        in_tx!(self, |tx| async {
            rows::require_conversation(tx, id).await?;
            let mut w = Written::default();
            service(tx, &mut w, id, actor, content, now_ms).await?;
            Ok(w)
        })
    }

    async fn conversations(&self, ids: &[ConversationId]) -> StoreResult<Vec<Conversation>> {
        let ids: Vec<i64> = ids.iter().map(|i| i.raw()).collect();
        let client = self.client().await?;
        let sql = format!("SELECT {CONV_COLS} FROM conversations c WHERE c.id = ANY($1)");
        client.query(&sql, &[&ids]).await?.iter().map(|r| rows::conversation_at(r, 0)).collect()
    }

    async fn threads(
        &self,
        parent: ConversationId,
        roots: &[MessageId],
        after: Option<(i64, ConversationId)>,
        limit: u32,
    ) -> StoreResult<Vec<Conversation>> {
        let client = self.client().await?;
        if let (Some(lo), Some(hi)) = (roots.iter().min(), roots.iter().max()) {
            let found = rows::threads_rooted_between(&**client, parent, *lo, *hi).await?;
            return Ok(crate::pick_threads(found, roots, after, limit));
        }
        let (t, c) = after.map_or((i64::MAX, i64::MAX), |(t, c)| (t, c.raw()));
        let sql = format!(
            "SELECT {CONV_COLS} FROM conversations c WHERE c.parent_id = $1 AND (c.last_activity_at, c.id) < ($2, $3) \
             ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $4"
        );
        client
            .query(&sql, &[&parent.raw(), &t, &c, &i64::from(limit)])
            .await?
            .iter()
            .map(|r| rows::conversation_at(r, 0))
            .collect()
    }

    async fn update_settings(
        &self,
        id: ConversationId,
        user_id: UserId,
        patch: SettingsPatch,
        now_ms: i64,
    ) -> StoreResult<(MemberSettings, UserEvent)> {
        in_tx!(self, |tx| async {
            let m = require_member(tx, id, user_id).await?;
            let s = patch.apply(&m.settings);
            tx.execute(
                "UPDATE members SET muted_until = $3, pinned = $4, archived = $5, draft = $6 \
                 WHERE conversation_id = $1 AND user_id = $2",
                &[&id.raw(), &user_id.raw(), &s.muted_until_ms, &s.pinned, &s.archived, &s.draft],
            )
            .await?;
            let kind = UserEventKind::SettingsChanged { conversation_id: id, settings: s.clone() };
            let ev = rows::append_user_event(tx, user_id, kind, now_ms).await?;
            Ok((s, ev))
        })
    }
}
