//! Privacy settings: each user's rule per setting (an audience and two exception lists),
//! and the one read every check makes: which owners keep a viewer out.

use std::collections::{HashMap, HashSet};

use switchboard_core::UserId;
use switchboard_core::event::{UserEvent, UserEventKind};
use switchboard_core::privacy::{self, Audience, PrivacyRule, PrivacySetting, Standing};

use crate::backends::store_trait;
use crate::rows::{self, first_i64};
use crate::sql::{Tx, args, corrupt};
use crate::{StoreError, StoreResult};

store_trait! {
    /// Privacy settings.
    pub trait PrivacyStore {
        /// Replaces `user`'s rules for their settings (audience and both lists), all or
        /// none: a `PrivacyChanged` entry in their log for each. `NotFound` when a listed
        /// account does not exist.
        write fn set_privacy_rules(&self, user: UserId, rules: Vec<PrivacyRule>, now_ms: i64) -> Vec<UserEvent>
            => set_rules(user, &rules, now_ms);
        /// `user`'s rules that differ from the default (everyone, no exceptions), by setting.
        read fn privacy_rules(&self, user: UserId) -> Vec<PrivacyRule> => rules(user);
        /// Which of `owners` keep `viewer` out for which of `settings`: blocked, denied, or
        /// outside the audience and not allowed. The viewer never keeps themself out.
        read fn privacy_refusals(
            &self,
            viewer: UserId,
            owners: &[UserId],
            settings: &[PrivacySetting],
        ) -> Vec<(UserId, PrivacySetting)> [owners = owners.to_vec(), settings = settings.to_vec()]
            => refusals(viewer, &owners, &settings);
    }
}

fn setting_of(code: i64) -> StoreResult<PrivacySetting> {
    PrivacySetting::from_code(code).ok_or_else(|| corrupt(format!("privacy setting {code}")))
}

fn audience_of(code: i64) -> StoreResult<Audience> {
    Audience::from_code(code).ok_or_else(|| corrupt(format!("privacy audience {code}")))
}

async fn set_rules(tx: &impl Tx, user: UserId, rules: &[PrivacyRule], now_ms: i64) -> StoreResult<Vec<UserEvent>> {
    let mut out = Vec::with_capacity(rules.len());
    for rule in rules {
        out.push(set_rule(tx, user, rule, now_ms).await?);
    }
    Ok(out)
}

async fn set_rule(tx: &impl Tx, user: UserId, rule: &PrivacyRule, now_ms: i64) -> StoreResult<UserEvent> {
    let listed: Vec<i64> = rule.allow.iter().chain(&rule.deny).map(|u| u.raw()).collect();
    if !listed.is_empty() {
        let sql = format!("SELECT COUNT(*) FROM users WHERE id {}", tx.dialect().any("?1"));
        let found = tx.one(&sql, args![listed.as_slice()], first_i64).await?.unwrap_or(0);
        if found != listed.len() as i64 {
            return Err(StoreError::NotFound("user"));
        }
    }
    let setting = rule.setting.code();
    tx.exec("DELETE FROM privacy_exceptions WHERE user_id = ?1 AND setting = ?2", args![user.raw(), setting]).await?;
    if rule.audience == Audience::Everyone && rule.allow.is_empty() && rule.deny.is_empty() {
        tx.exec("DELETE FROM privacy_rules WHERE user_id = ?1 AND setting = ?2", args![user.raw(), setting]).await?;
    } else {
        tx.exec(
            "INSERT INTO privacy_rules (user_id, setting, audience, updated_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (user_id, setting) DO UPDATE SET audience = excluded.audience, updated_at = excluded.updated_at",
            args![user.raw(), setting, rule.audience.code(), now_ms],
        )
        .await?;
        for (ids, allow) in [(&rule.allow, true), (&rule.deny, false)] {
            for other in ids {
                tx.exec(
                    "INSERT INTO privacy_exceptions (user_id, setting, other_id, allow) VALUES (?1, ?2, ?3, ?4)",
                    args![user.raw(), setting, other.raw(), allow],
                )
                .await?;
            }
        }
    }
    rows::append_user_event(tx, user, UserEventKind::PrivacyChanged { rule: rule.clone() }, now_ms).await
}

async fn rules(tx: &impl Tx, user: UserId) -> StoreResult<Vec<PrivacyRule>> {
    let mut out: Vec<PrivacyRule> = tx
        .all(
            "SELECT setting, audience FROM privacy_rules WHERE user_id = ?1 ORDER BY setting",
            args![user.raw()],
            |r| {
                let setting = setting_of(r.i64("setting")?)?;
                Ok(PrivacyRule { audience: audience_of(r.i64("audience")?)?, ..PrivacyRule::default_for(setting) })
            },
        )
        .await?;
    let exceptions = tx
        .all(
            "SELECT setting, other_id, allow FROM privacy_exceptions WHERE user_id = ?1 ORDER BY setting, other_id",
            args![user.raw()],
            |r| Ok((r.i64("setting")?, UserId::from_raw(r.i64("other_id")?), r.bool("allow")?)),
        )
        .await?;
    for (setting, other, allow) in exceptions {
        let setting = setting_of(setting)?;
        let Some(rule) = out.iter_mut().find(|r| r.setting == setting) else {
            return Err(corrupt(format!("privacy exceptions without a rule for {setting:?}")));
        };
        if allow { rule.allow.push(other) } else { rule.deny.push(other) }
    }
    Ok(out)
}

/// What one row of the refusals read says.
const BLOCK: i64 = 0;
const RULE: i64 = 1;
const ALLOW: i64 = 2;
const DENY: i64 = 3;

async fn refusals(
    tx: &impl Tx,
    viewer: UserId,
    owners: &[UserId],
    settings: &[PrivacySetting],
) -> StoreResult<Vec<(UserId, PrivacySetting)>> {
    let mut ids: Vec<i64> = owners.iter().filter(|o| **o != viewer).map(|o| o.raw()).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() || settings.is_empty() {
        return Ok(Vec::new());
    }
    let codes: Vec<i64> = settings.iter().map(|s| s.code()).collect();
    let (owners_in, settings_in) = (tx.dialect().any("?2"), tx.dialect().any("?3"));
    // Blocks, rules and the viewer's exceptions in one statement; most owners have none.
    let sql = format!(
        "SELECT owner_id AS o, {BLOCK} AS k, 0 AS s, 0 AS a FROM blocks WHERE blocked_id = ?1 AND owner_id {owners_in} \
         UNION ALL SELECT user_id, {RULE}, setting, audience FROM privacy_rules \
           WHERE user_id {owners_in} AND setting {settings_in} \
         UNION ALL SELECT user_id, CASE WHEN allow THEN {ALLOW} ELSE {DENY} END, setting, 0 FROM privacy_exceptions \
           WHERE other_id = ?1 AND user_id {owners_in} AND setting {settings_in}"
    );
    let found = tx
        .all(&sql, args![viewer.raw(), ids.as_slice(), codes.as_slice()], |r| {
            Ok((r.i64("o")?, r.i64("k")?, r.i64("s")?, r.i64("a")?))
        })
        .await?;
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let mut blocked = HashSet::new();
    let mut audience: HashMap<(i64, i64), Audience> = HashMap::new();
    let mut listed: HashMap<(i64, i64), i64> = HashMap::new();
    for (owner, kind, setting, value) in found {
        match kind {
            BLOCK => {
                blocked.insert(owner);
            }
            RULE => {
                audience.insert((owner, setting), audience_of(value)?);
            }
            _ => {
                listed.insert((owner, setting), kind);
            }
        }
    }
    // Contacts both ways, only for the owners whose audience asks for them.
    let mut contact = HashSet::new();
    let mut contact_back = HashSet::new();
    let ask: Vec<i64> = audience
        .iter()
        .filter(|(_, a)| matches!(a, Audience::Contacts | Audience::Friends))
        .map(|((o, _), _)| *o)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if !ask.is_empty() {
        let any = tx.dialect().any("?2");
        let sql = format!(
            "SELECT owner_id AS o, 0 AS back FROM contacts WHERE contact_id = ?1 AND owner_id {any} \
             UNION ALL SELECT contact_id, 1 FROM contacts WHERE owner_id = ?1 AND contact_id {any}"
        );
        for (o, back) in
            tx.all(&sql, args![viewer.raw(), ask.as_slice()], |r| Ok((r.i64("o")?, r.i64("back")?))).await?
        {
            if back == 1 {
                contact_back.insert(o)
            } else {
                contact.insert(o)
            };
        }
    }
    let mut out = Vec::new();
    for &owner in &ids {
        for &setting in settings {
            let key = (owner, setting.code());
            let standing = Standing {
                blocked: blocked.contains(&owner),
                allowed: listed.get(&key) == Some(&ALLOW),
                denied: listed.get(&key) == Some(&DENY),
                contact: contact.contains(&owner),
                contact_back: contact_back.contains(&owner),
            };
            let a = audience.get(&key).copied().unwrap_or(Audience::Everyone);
            if !privacy::permits(a, standing) {
                out.push((UserId::from_raw(owner), setting));
            }
        }
    }
    Ok(out)
}
