//! Who may do what in a conversation: pure functions of the conversation kind and the
//! acting member (none for a non-member). The service calls these before every change.
//! [`access`] decides reading, posting and moderating for every conversation kind; the
//! store calls it again inside the append transaction, on the membership it reads there.

use crate::model::{AdminRights, Conversation, ConversationKind, Member, MemberRole};
use crate::space::Permissions;

/// A refused action, with the reason a client sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub &'static str);

/// Why an action is refused: the actor lacks the right, or the state must change first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The actor may not do this (permission_denied).
    #[error(transparent)]
    Denied(#[from] Denied),
    /// Allowed, but not in this state (failed_precondition), with a machine-readable reason.
    #[error("{message}")]
    NotNow {
        /// Machine-readable, e.g. `owner_must_transfer`.
        reason: &'static str,
        /// For people.
        message: &'static str,
    },
}

/// The rights a member actually has: all for the owner, the granted ones for an admin,
/// none for a plain member.
pub fn effective_rights(member: &Member) -> AdminRights {
    match member.role {
        MemberRole::Owner => AdminRights::ALL,
        MemberRole::Admin => member.rights,
        MemberRole::Member => AdminRights::default(),
    }
}

fn member(actor: Option<&Member>) -> Result<&Member, Denied> {
    actor.ok_or(Denied("you are not a member of this conversation"))
}

fn managed(kind: ConversationKind) -> Result<(), Denied> {
    match kind {
        ConversationKind::Group | ConversationKind::Channel => Ok(()),
        ConversationKind::Direct => Err(Denied("direct conversations have no administration")),
        ConversationKind::Space | ConversationKind::SpaceChannel => {
            Err(Denied("spaces and their channels are administered through the space's roles"))
        }
        ConversationKind::Thread => Err(Denied("threads follow the permissions of their conversation")),
    }
}

/// Read history, list members, see receipts: members only.
pub fn can_read(actor: Option<&Member>) -> Result<(), Denied> {
    member(actor).map(|_| ())
}

/// Post a message, by membership alone: any member of a direct or group conversation, a
/// space channel or a thread (whose permissions [`access`] decides); in a channel, the
/// owner and admins with the post right; nobody in a space's own log.
pub fn can_post(kind: ConversationKind, actor: Option<&Member>) -> Result<(), Denied> {
    let m = member(actor)?;
    if kind == ConversationKind::Channel && !effective_rights(m).post {
        return Err(Denied("only admins with the post right may post in a channel"));
    }
    if kind == ConversationKind::Space {
        return Err(Denied("a space's log holds its changes only; post in one of its channels"));
    }
    Ok(())
}

/// Whether a member may post at `now_ms` given the restrictions an admin placed: muted
/// until a time, or the group limited to admins ("mute all"). Owners and admins are never
/// restricted.
pub fn may_post_now(conversation: &Conversation, m: &Member, now_ms: i64) -> Result<(), Denied> {
    if m.role != MemberRole::Member {
        return Ok(());
    }
    if m.post_muted_until_ms > now_ms {
        return Err(Denied("an admin muted you here for now"));
    }
    if conversation.admins_only {
        return Err(Denied("only admins may post here for now"));
    }
    Ok(())
}

/// Mute or unmute a member: as [`can_remove`] (the owner mutes anyone but themselves, an
/// admin with the remove-members right mutes plain members).
pub fn can_mute(kind: ConversationKind, actor: Option<&Member>, target: &Member) -> Result<(), Denied> {
    if !matches!(kind, ConversationKind::Group | ConversationKind::Channel) {
        return Err(Denied("members are muted in groups and channels"));
    }
    can_remove(kind, actor, target)
        .map_err(|d| if d.0 == "use LeaveConversation to leave" { Denied("you cannot mute yourself") } else { d })
}

/// What decides someone's rights in a conversation, gathered by the caller.
#[derive(Debug, Clone, Copy)]
pub enum Standing<'a> {
    /// Their membership of the conversation itself (direct, group, channel, space), none if
    /// they are not a member.
    Member(Option<&'a Member>),
    /// A space channel: their permissions in it (the space's roles and the channel's
    /// overwrites).
    SpaceChannel(Permissions),
    /// A thread on a space channel: their permissions in that channel.
    SpaceThread(Permissions),
    /// A thread on a direct, group or channel conversation: their membership of it.
    Thread(Option<&'a Member>),
}

/// What someone who may read a conversation may do in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// Posting, or why not.
    pub post: Result<(), Denied>,
    /// Deleting others' messages.
    pub moderate: bool,
    /// Mentioning everyone.
    pub mention_all: bool,
    /// Pinning and unpinning messages: either member of a direct conversation, the owner
    /// and admins with the pin right in groups and channels (and their threads),
    /// manage-messages in a space channel.
    pub pin: bool,
    /// Reacting: any member, except where posting needs a space permission they lack.
    pub react: Result<(), Denied>,
}

/// Reading, posting and moderating in a conversation of `kind`: `Err` when they may not
/// read it at all (callers answer not_found, so that it stays unseen).
pub fn access(kind: ConversationKind, standing: Standing<'_>) -> Result<Access, Denied> {
    let by_permissions = |perms: Permissions, send: Permissions, refusal: &'static str| {
        if !perms.contains(Permissions::VIEW) {
            return Err(Denied("you cannot see this channel"));
        }
        let post = if perms.contains(send) { Ok(()) } else { Err(Denied(refusal)) };
        Ok(Access {
            post,
            moderate: perms.contains(Permissions::MANAGE_MESSAGES),
            mention_all: perms.contains(Permissions::MENTION_EVERYONE),
            pin: perms.contains(Permissions::MANAGE_MESSAGES),
            react: post,
        })
    };
    match standing {
        Standing::Member(actor) => {
            let m = member(actor)?;
            let react = if kind == ConversationKind::Space { can_post(kind, Some(m)) } else { Ok(()) };
            Ok(Access {
                post: can_post(kind, Some(m)),
                moderate: effective_rights(m).delete_messages,
                mention_all: true,
                pin: kind == ConversationKind::Direct
                    || (matches!(kind, ConversationKind::Group | ConversationKind::Channel) && effective_rights(m).pin),
                react,
            })
        }
        Standing::SpaceChannel(perms) => by_permissions(perms, Permissions::SEND, "you need the send permission here"),
        Standing::SpaceThread(perms) => {
            by_permissions(perms, Permissions::SEND_IN_THREADS, "you need the send-in-threads permission here")
        }
        Standing::Thread(parent) => {
            let m = member(parent)?;
            Ok(Access {
                post: Ok(()),
                moderate: effective_rights(m).delete_messages,
                mention_all: true,
                pin: effective_rights(m).pin,
                react: Ok(()),
            })
        }
    }
}

/// Change title or about: owner, or an admin with the edit-info right.
pub fn can_edit_info(kind: ConversationKind, actor: Option<&Member>) -> Result<(), Denied> {
    managed(kind)?;
    if !effective_rights(member(actor)?).edit_info {
        return Err(Denied("you need the edit-info right"));
    }
    Ok(())
}

/// Add members: owner, or an admin with the invite right.
pub fn can_invite(kind: ConversationKind, actor: Option<&Member>) -> Result<(), Denied> {
    managed(kind)?;
    if !effective_rights(member(actor)?).invite {
        return Err(Denied("you need the invite right"));
    }
    Ok(())
}

/// Remove `target`: the owner removes anyone else; an admin with the remove-members right
/// removes plain members.
pub fn can_remove(kind: ConversationKind, actor: Option<&Member>, target: &Member) -> Result<(), Denied> {
    managed(kind)?;
    let m = member(actor)?;
    if m.user_id == target.user_id {
        return Err(Denied("use LeaveConversation to leave"));
    }
    match (m.role, target.role) {
        (_, MemberRole::Owner) => Err(Denied("the owner cannot be removed")),
        (MemberRole::Owner, _) => Ok(()),
        (MemberRole::Admin, MemberRole::Member) if m.rights.remove_members => Ok(()),
        (MemberRole::Admin, MemberRole::Admin) => Err(Denied("only the owner removes admins")),
        _ => Err(Denied("you need the remove-members right")),
    }
}

/// Delete a message for everyone: its sender (while a member), or the owner or an admin
/// with the delete-messages right.
pub fn can_delete_for_everyone(actor: Option<&Member>, sender_is_actor: bool) -> Result<(), Denied> {
    let m = member(actor)?;
    if sender_is_actor || effective_rights(m).delete_messages {
        return Ok(());
    }
    Err(Denied("you need the delete-messages right to delete others' messages"))
}

/// Change roles or transfer ownership: the owner only.
pub fn can_manage_roles(kind: ConversationKind, actor: Option<&Member>) -> Result<(), Denied> {
    managed(kind)?;
    if member(actor)?.role != MemberRole::Owner {
        return Err(Denied("only the owner may change roles"));
    }
    Ok(())
}

/// Leave: any member of a group or channel; the owner only when alone or after handing
/// ownership over.
pub fn can_leave(kind: ConversationKind, actor: Option<&Member>, member_count: u32) -> Result<(), Refusal> {
    managed(kind)?;
    let m = member(actor)?;
    if m.role == MemberRole::Owner && member_count > 1 {
        return Err(Refusal::NotNow { reason: "owner_must_transfer", message: "transfer ownership before leaving" });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ConversationId, UserId};
    use crate::model::MemberSettings;
    use ConversationKind::{Channel, Direct, Group};

    fn m(id: i64, role: MemberRole, rights: AdminRights) -> Member {
        Member {
            conversation_id: ConversationId::from_raw(1),
            user_id: UserId::from_raw(id),
            role,
            rights,
            joined_at_ms: 0,
            joined_seq: 0,
            read_seq: 0,
            delivered_seq: 0,
            visible_from_seq: 0,
            post_muted_until_ms: 0,
            settings: MemberSettings::default(),
        }
    }

    fn owner() -> Member {
        m(1, MemberRole::Owner, AdminRights::default())
    }
    fn admin(rights: AdminRights) -> Member {
        m(2, MemberRole::Admin, rights)
    }
    fn plain(id: i64) -> Member {
        m(id, MemberRole::Member, AdminRights::ALL)
    }

    #[test]
    fn access_is_decided_for_every_kind_from_the_standing() {
        use ConversationKind::{Space, SpaceChannel, Thread};
        // Non-members and channels out of view cannot read; callers answer not_found.
        assert!(access(Group, Standing::Member(None)).is_err());
        assert!(access(Thread, Standing::Thread(None)).is_err());
        assert!(access(SpaceChannel, Standing::SpaceChannel(Permissions::SEND)).is_err());
        assert!(access(Thread, Standing::SpaceThread(Permissions::SEND_IN_THREADS)).is_err());
        // Membership: the channel rule and moderation follow the member's rights.
        let member = plain(3);
        let group = access(Group, Standing::Member(Some(&member))).unwrap();
        assert_eq!((group.post, group.moderate, group.mention_all), (Ok(()), false, true));
        assert!(access(Channel, Standing::Member(Some(&member))).unwrap().post.is_err());
        assert!(access(Space, Standing::Member(Some(&owner()))).unwrap().post.is_err());
        assert!(access(Channel, Standing::Member(Some(&owner()))).unwrap().moderate);
        // Space channels and their threads: the permissions, with the refusal a client sees.
        let view = Permissions::VIEW;
        let reader = access(SpaceChannel, Standing::SpaceChannel(view)).unwrap();
        assert_eq!(reader.post, Err(Denied("you need the send permission here")));
        let sender = access(SpaceChannel, Standing::SpaceChannel(view.union(Permissions::SEND))).unwrap();
        assert_eq!((sender.post, sender.moderate, sender.mention_all), (Ok(()), false, false));
        let thread = access(Thread, Standing::SpaceThread(view.union(Permissions::SEND))).unwrap();
        assert_eq!(thread.post, Err(Denied("you need the send-in-threads permission here")));
        let all = [Permissions::SEND_IN_THREADS, Permissions::MANAGE_MESSAGES, Permissions::MENTION_EVERYONE]
            .into_iter()
            .fold(view, Permissions::union);
        let thread = access(Thread, Standing::SpaceThread(all)).unwrap();
        assert_eq!((thread.post, thread.moderate, thread.mention_all), (Ok(()), true, true));
        // Threads elsewhere: any reader of the parent posts.
        assert_eq!(access(Thread, Standing::Thread(Some(&member))).unwrap().post, Ok(()));
    }

    #[test]
    fn the_owner_has_every_right_and_plain_members_none_whatever_is_stored() {
        assert_eq!(effective_rights(&owner()), AdminRights::ALL);
        assert_eq!(effective_rights(&plain(3)), AdminRights::default());
        let r = AdminRights { pin: true, ..AdminRights::default() };
        assert_eq!(effective_rights(&admin(r)), r);
    }

    #[test]
    fn non_members_can_do_nothing() {
        assert!(can_read(None).is_err());
        for kind in [Direct, Group, Channel] {
            assert!(can_post(kind, None).is_err());
        }
        assert!(can_edit_info(Group, None).is_err());
        assert!(can_invite(Group, None).is_err());
        assert!(can_delete_for_everyone(None, true).is_err());
        assert!(can_leave(Group, None, 2).is_err());
    }

    #[test]
    fn in_a_channel_only_posters_post() {
        assert!(can_post(Channel, Some(&plain(3))).is_err());
        assert!(can_post(Channel, Some(&owner())).is_ok());
        assert!(can_post(Channel, Some(&admin(AdminRights { post: true, ..Default::default() }))).is_ok());
        assert!(can_post(Channel, Some(&admin(AdminRights::default()))).is_err());
        assert!(can_post(Group, Some(&plain(3))).is_ok());
        assert!(can_post(Direct, Some(&plain(3))).is_ok());
    }

    #[test]
    fn editing_info_and_inviting_need_their_rights() {
        assert!(can_edit_info(Group, Some(&plain(3))).is_err());
        assert!(can_edit_info(Group, Some(&owner())).is_ok());
        assert!(can_edit_info(Group, Some(&admin(AdminRights { edit_info: true, ..Default::default() }))).is_ok());
        assert!(can_invite(Group, Some(&admin(AdminRights { edit_info: true, ..Default::default() }))).is_err());
        assert!(can_invite(Group, Some(&admin(AdminRights { invite: true, ..Default::default() }))).is_ok());
        assert!(can_edit_info(Direct, Some(&owner())).is_err());
    }

    #[test]
    fn removal_follows_the_role_order() {
        let remover = admin(AdminRights { remove_members: true, ..Default::default() });
        assert!(can_remove(Group, Some(&remover), &plain(3)).is_ok());
        assert!(can_remove(Group, Some(&remover), &admin(AdminRights::ALL)).is_err());
        assert!(can_remove(Group, Some(&remover), &owner()).is_err());
        assert!(can_remove(Group, Some(&owner()), &admin(AdminRights::ALL)).is_ok());
        assert!(can_remove(Group, Some(&plain(3)), &plain(4)).is_err());
        assert!(can_remove(Group, Some(&owner()), &owner()).is_err());
        assert!(can_remove(Direct, Some(&owner()), &plain(3)).is_err());
    }

    #[test]
    fn deleting_others_messages_needs_the_right() {
        assert!(can_delete_for_everyone(Some(&plain(3)), true).is_ok());
        assert!(can_delete_for_everyone(Some(&plain(3)), false).is_err());
        assert!(can_delete_for_everyone(Some(&owner()), false).is_ok());
        let moderator = admin(AdminRights { delete_messages: true, ..Default::default() });
        assert!(can_delete_for_everyone(Some(&moderator), false).is_ok());
    }

    #[test]
    fn only_the_owner_manages_roles_and_must_hand_over_before_leaving() {
        assert!(can_manage_roles(Group, Some(&owner())).is_ok());
        assert!(can_manage_roles(Group, Some(&admin(AdminRights::ALL))).is_err());
        assert_eq!(
            can_leave(Group, Some(&owner()), 2),
            Err(Refusal::NotNow { reason: "owner_must_transfer", message: "transfer ownership before leaving" })
        );
        assert!(can_leave(Group, Some(&owner()), 1).is_ok());
        assert!(can_leave(Group, Some(&plain(3)), 5).is_ok());
        assert!(can_leave(Direct, Some(&plain(3)), 2).is_err());
    }

    #[test]
    fn rights_survive_their_storage_form() {
        for bits in 0..64 {
            assert_eq!(AdminRights::from_bits(bits).to_bits(), bits);
        }
    }
}
