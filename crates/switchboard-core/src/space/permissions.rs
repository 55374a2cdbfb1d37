//! The set of permissions a role grants and an overwrite allows or denies, with their
//! wire names.

use crate::permissions::Denied;

/// A set of space permissions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Permissions(u64);

macro_rules! permissions {
    ($($(#[$doc:meta])* $name:ident = $bit:expr, $wire:literal;)*) => {
        impl Permissions {
            $($(#[$doc])* pub const $name: Permissions = Permissions(1 << $bit);)*
            /// Every permission, with its wire name.
            pub const NAMED: &'static [(Permissions, &'static str)] = &[$((Permissions::$name, $wire)),*];
        }
    };
}

permissions! {
    /// See a channel and read its history.
    VIEW = 0, "view";
    /// Post in a channel.
    SEND = 1, "send";
    /// Post in threads and start them.
    SEND_IN_THREADS = 2, "send_in_threads";
    /// Delete others' messages and pin.
    MANAGE_MESSAGES = 3, "manage_messages";
    /// Use @all.
    MENTION_EVERYONE = 4, "mention_everyone";
    /// Create, edit, move and delete folders and channels, and set overwrites.
    MANAGE_CHANNELS = 5, "manage_channels";
    /// Create, edit and assign roles below one's own highest role.
    MANAGE_ROLES = 6, "manage_roles";
    /// Edit the space's name, about and settings.
    MANAGE_SPACE = 7, "manage_space";
    /// Remove members below one's own highest role, time them out, decide join requests.
    KICK = 8, "kick";
    /// Ban and unban.
    BAN = 9, "ban";
    /// Create invites (and see and revoke them).
    CREATE_INVITES = 10, "create_invites";
    /// Manage webhooks.
    MANAGE_WEBHOOKS = 11, "manage_webhooks";
    /// Every permission in every channel; overwrites do not apply.
    ADMINISTRATOR = 12, "administrator";
    /// Add and remove the space's custom emoji and sticker packs.
    MANAGE_EXPRESSIONS = 13, "manage_expressions";
}

impl Permissions {
    /// No permission.
    pub const NONE: Permissions = Permissions(0);
    /// Every permission.
    pub const ALL: Permissions = Permissions((1 << 14) - 1);
    /// What the everyone role of a new space grants.
    pub const DEFAULT_EVERYONE: Permissions =
        Permissions(Self::VIEW.0 | Self::SEND.0 | Self::SEND_IN_THREADS.0 | Self::CREATE_INVITES.0);
    /// What a timed-out member keeps.
    pub const WHILE_TIMED_OUT: Permissions = Self::VIEW;

    /// The stored form.
    pub fn bits(self) -> u64 {
        self.0
    }

    /// From a stored form; unknown bits are dropped.
    pub fn from_bits(bits: u64) -> Self {
        Self(bits & Self::ALL.0)
    }

    /// From a stored form, keeping bits this build does not know (a newer node's
    /// permissions survive an older node's rewrite of the record).
    pub fn from_bits_retain(bits: u64) -> Self {
        Self(bits)
    }

    /// True when every permission of `other` is in `self`.
    pub fn contains(self, other: Permissions) -> bool {
        self.0 & other.0 == other.0
    }

    /// Both sets.
    pub fn union(self, other: Permissions) -> Self {
        Self(self.0 | other.0)
    }

    /// `self` without `other`.
    pub fn without(self, other: Permissions) -> Self {
        Self(self.0 & !other.0)
    }

    /// Only what both have.
    pub fn intersect(self, other: Permissions) -> Self {
        Self(self.0 & other.0)
    }

    /// The wire names of the permissions in this set.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMED.iter().filter(|(p, _)| self.contains(*p)).map(|(_, n)| *n).collect()
    }

    /// Parses one wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::NAMED.iter().find(|(_, n)| *n == name).map(|(p, _)| *p)
    }

    /// Requires `needed`, or says which is missing.
    pub fn require(self, needed: Permissions) -> Result<(), Denied> {
        match Self::NAMED.iter().find(|(p, _)| needed.contains(*p) && !self.contains(*p)) {
            None => Ok(()),
            Some((_, name)) => Err(Denied(missing_message(name))),
        }
    }
}

fn missing_message(name: &str) -> &'static str {
    match name {
        "view" => "you need the view permission",
        "send" => "you need the send permission in this channel",
        "send_in_threads" => "you need the send-in-threads permission",
        "manage_messages" => "you need the manage-messages permission",
        "mention_everyone" => "you need the mention-everyone permission to mention @all",
        "manage_channels" => "you need the manage-channels permission",
        "manage_roles" => "you need the manage-roles permission",
        "manage_space" => "you need the manage-space permission",
        "kick" => "you need the kick permission",
        "ban" => "you need the ban permission",
        "create_invites" => "you need the create-invites permission",
        "manage_webhooks" => "you need the manage-webhooks permission",
        "manage_expressions" => "you need the manage-expressions permission",
        _ => "you need the administrator permission",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_names_round_trip_and_all_covers_every_named_bit() {
        let mut all = Permissions::NONE;
        for (p, name) in Permissions::NAMED {
            assert_eq!(Permissions::from_name(name), Some(*p));
            all = all.union(*p);
        }
        assert_eq!(all, Permissions::ALL);
        assert_eq!(Permissions::from_name("nope"), None);
        assert_eq!(Permissions::from_bits(u64::MAX), Permissions::ALL);
        for bits in 0..(1u64 << 14) {
            let p = Permissions::from_bits(bits);
            let back = p.names().iter().fold(Permissions::NONE, |a, n| a.union(Permissions::from_name(n).unwrap()));
            assert_eq!(back, p);
        }
    }

    #[test]
    fn require_names_the_first_missing_permission() {
        let p = Permissions::VIEW.union(Permissions::SEND);
        assert!(p.require(Permissions::VIEW).is_ok());
        assert!(p.require(Permissions::NONE).is_ok());
        assert_eq!(p.require(Permissions::BAN).unwrap_err().0, "you need the ban permission");
        for (q, _) in Permissions::NAMED {
            assert!(Permissions::NONE.require(*q).is_err());
            assert!(Permissions::ALL.require(*q).is_ok());
        }
    }
}
