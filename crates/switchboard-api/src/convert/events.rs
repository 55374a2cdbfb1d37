//! Events on the wire.

use switchboard_core::event::{ConvEventKind, Event, Presence, PresenceStatus, SessionEndReason, UserEventKind};
use switchboard_proto::v1 as pb;
use switchboard_proto::v1::event::Kind;

use super::{message, settings};

/// A presence status on the wire.
pub fn presence_status(s: PresenceStatus) -> pb::PresenceStatus {
    match s {
        PresenceStatus::Online => pb::PresenceStatus::Online,
        PresenceStatus::Away => pb::PresenceStatus::Away,
        PresenceStatus::Offline => pb::PresenceStatus::Offline,
    }
}

/// A presence on the wire.
pub fn presence(p: &Presence) -> pb::Presence {
    pb::Presence {
        user_id: p.user_id.to_string(),
        status: presence_status(p.status) as i32,
        last_seen_at_ms: p.last_seen_at_ms,
    }
}

/// A session-end reason on the wire.
pub fn end_reason(r: SessionEndReason) -> pb::SessionEndReason {
    match r {
        SessionEndReason::LoggedOut => pb::SessionEndReason::LoggedOut,
        SessionEndReason::EndedElsewhere => pb::SessionEndReason::EndedElsewhere,
        SessionEndReason::PasswordChanged => pb::SessionEndReason::PasswordChanged,
        SessionEndReason::AccountDisabled => pb::SessionEndReason::AccountDisabled,
        SessionEndReason::RefreshTokenReused => pb::SessionEndReason::RefreshTokenReused,
        SessionEndReason::Replaced => pb::SessionEndReason::Replaced,
        SessionEndReason::AccountDeleted => pb::SessionEndReason::AccountDeleted,
    }
}

fn user_kind(k: &UserEventKind, at_ms: i64) -> Kind {
    match k {
        UserEventKind::ConversationJoined { conversation_id, joined_at_seq } => {
            Kind::ConversationJoined(pb::ConversationJoined {
                conversation_id: conversation_id.to_string(),
                joined_at_seq: *joined_at_seq,
            })
        }
        UserEventKind::ConversationLeft { conversation_id, removed, left_at_seq } => {
            Kind::ConversationLeft(pb::ConversationLeft {
                left_at_seq: *left_at_seq,
                conversation_id: conversation_id.to_string(),
                removed: *removed,
            })
        }
        UserEventKind::ReadStateChanged { conversation_id, read_seq, counts } => {
            Kind::ReadStateChanged(pb::ReadStateChanged {
                conversation_id: conversation_id.to_string(),
                read_seq: *read_seq,
                unread_count: counts.map(|c| c.unread),
                mention_count: counts.map(|c| c.mentions),
            })
        }
        UserEventKind::SettingsChanged { conversation_id, settings: s } => Kind::SettingsChanged(pb::SettingsChanged {
            conversation_id: conversation_id.to_string(),
            settings: Some(settings(s)),
        }),
        UserEventKind::HistoryCleared { conversation_id, visible_from_seq } => {
            Kind::HistoryCleared(pb::HistoryCleared {
                conversation_id: conversation_id.to_string(),
                visible_from_seq: *visible_from_seq,
            })
        }
        UserEventKind::MessagesHidden { conversation_id, message_ids } => Kind::MessagesHidden(pb::MessagesHidden {
            conversation_id: conversation_id.to_string(),
            message_ids: message_ids.iter().map(|m| m.to_string()).collect(),
        }),
        UserEventKind::JoinRequested { conversation_id, user_id } => Kind::JoinRequested(pb::JoinRequested {
            conversation_id: conversation_id.to_string(),
            user_id: user_id.to_string(),
        }),
        UserEventKind::JoinRequestDecided { conversation_id, accepted } => {
            Kind::JoinRequestDecided(pb::JoinRequestDecided {
                conversation_id: conversation_id.to_string(),
                accepted: *accepted,
            })
        }
        UserEventKind::SessionEnded { session_id, reason } => Kind::SessionEnded(pb::SessionEnded {
            session_id: session_id.to_string(),
            reason: end_reason(*reason) as i32,
        }),
        UserEventKind::JoinRequestResolved { conversation_id, user_id, accepted, decided_by } => {
            Kind::JoinRequestResolved(pb::JoinRequestResolved {
                conversation_id: conversation_id.to_string(),
                user_id: user_id.to_string(),
                accepted: *accepted,
                decided_by: decided_by.to_string(),
            })
        }
        UserEventKind::BlockChanged { user_id, blocked } => {
            Kind::BlockChanged(pb::BlockChanged { user_id: user_id.to_string(), blocked: *blocked })
        }
        UserEventKind::PrivacyChanged { rule } => {
            Kind::PrivacyChanged(pb::PrivacyChanged { rule: Some(super::privacy_rule(rule)) })
        }
        UserEventKind::FriendRequestChanged { request, state } => {
            Kind::FriendRequestChanged(pb::FriendRequestChanged {
                request: Some(super::friend_request(request)),
                state: super::friend_request_state(*state).into(),
            })
        }
        UserEventKind::ContactChanged { user_id, contact } => Kind::ContactChanged(pb::ContactChanged {
            user_id: user_id.to_string(),
            contact: contact.as_ref().map(super::contact),
            removed: contact.is_none(),
        }),
        UserEventKind::MessageSaved { conversation_id, message_id, saved } => Kind::MessageSaved(pb::MessageSaved {
            conversation_id: conversation_id.to_string(),
            message_id: message_id.to_string(),
            saved: *saved,
            at_ms,
        }),
        UserEventKind::SessionStarted { session_id, device_name, platform } => {
            Kind::SessionStarted(pb::SessionStarted {
                session_id: session_id.to_string(),
                device: Some(pb::DeviceInfo { name: device_name.clone(), platform: platform.clone() }),
                created_at_ms: at_ms,
            })
        }
        UserEventKind::UserSettingsChanged { changes } => {
            let mut out = pb::UserSettingsChanged::default();
            for (key, value) in changes {
                match value {
                    Some(v) => {
                        out.set.push(pb::UserSetting { key: key.clone(), value: v.clone(), updated_at_ms: at_ms })
                    }
                    None => out.removed.push(key.clone()),
                }
            }
            Kind::UserSettingsChanged(out)
        }
    }
}

/// An event on the wire.
/// An event on the wire as `viewer` sees it (the sender's devices see their client key).
pub fn event(e: &Event, viewer: Option<switchboard_core::UserId>) -> pb::Event {
    let mut out = pb::Event::default();
    out.kind = Some(match e {
        Event::Conversation(ev) => {
            out.conversation_id = ev.conversation_id.to_string();
            out.seq = ev.seq;
            let m = message(&ev.message, viewer);
            match ev.kind {
                ConvEventKind::MessageCreated => Kind::MessageCreated(m),
                ConvEventKind::MessageEdited => Kind::MessageEdited(m),
                ConvEventKind::PreviewAdded => Kind::MessagePreviewed(m),
                ConvEventKind::MessageDeleted => Kind::MessageDeleted(pb::MessageDeleted {
                    message_id: ev.message.id.to_string(),
                    message_seq: ev.message.seq,
                    deleted_by: ev.actor.map(|a| a.user_id.to_string()).unwrap_or_default(),
                    deleted_at_ms: ev.actor.map_or(0, |a| a.at_ms),
                }),
                ConvEventKind::ReactionAdded | ConvEventKind::ReactionRemoved => {
                    let (emoji, custom_emoji_id) = super::reaction_key(ev.reaction.as_deref().unwrap_or_default());
                    Kind::ReactionChanged(pb::ReactionChanged {
                        message: Some(m),
                        user_id: ev.actor.map(|a| a.user_id.to_string()).unwrap_or_default(),
                        emoji,
                        custom_emoji_id,
                        added: ev.kind == ConvEventKind::ReactionAdded,
                        at_ms: ev.actor.map_or(0, |a| a.at_ms),
                    })
                }
            }
        }
        Event::User(ev) => {
            out.user_seq = ev.user_seq;
            user_kind(&ev.kind, ev.created_at_ms)
        }
        Event::Typing(t) => Kind::Typing(pb::Typing {
            conversation_id: t.conversation_id.to_string(),
            user_id: t.user_id.to_string(),
            typing: t.typing,
            expires_at_ms: t.expires_at_ms,
        }),
        Event::Presence(p) => Kind::Presence(presence(p)),
        Event::UserUpdated { user, partial, .. } => {
            Kind::UserUpdated(pb::UserUpdated { user: Some(super::user(user)), partial: *partial })
        }
        Event::FileReady { file, .. } => Kind::FileReady(pb::FileReady { file: Some(super::file(file)) }),
        Event::Receipt(r) => Kind::Receipt(pb::Receipt {
            conversation_id: r.conversation_id.to_string(),
            user_id: r.user_id.to_string(),
            read_seq: r.read_seq,
            delivered_seq: r.delivered_seq,
        }),
        Event::ThreadActivity(t) => Kind::ThreadActivity(pb::ThreadActivity {
            conversation_id: t.conversation_id.to_string(),
            root_message_id: t.root_message_id.to_string(),
            thread: Some(pb::ThreadSummary {
                thread_id: t.thread.thread_id.to_string(),
                reply_count: t.thread.reply_count,
                last_reply_at_ms: t.thread.last_reply_at_ms,
            }),
        }),
        Event::OnlineMessage(m) => {
            out.conversation_id = m.conversation_id.to_string();
            Kind::OnlineMessage(message(m, viewer))
        }
        Event::CaughtUp { user_seq } => Kind::CaughtUp(pb::CaughtUp { user_seq: *user_seq }),
        Event::ResyncRequired { conversation_id } => Kind::ResyncRequired(pb::ResyncRequired {
            conversation_id: conversation_id.map(|c| c.to_string()).unwrap_or_default(),
        }),
    });
    out
}
