//! Privacy settings: who may reach a user in each way (message them directly, add them to
//! groups, see their presence, photo or bio, find them in search), and the one decision
//! every check makes.

use crate::ids::UserId;

/// One of the things a user decides who may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PrivacySetting {
    /// Start a direct chat with them and write in it.
    DirectMessages,
    /// Add them to a group or a channel.
    GroupInvites,
    /// See whether they are online and when they were last seen.
    Presence,
    /// See their profile photo.
    ProfilePhoto,
    /// See their bio.
    Bio,
    /// Find them in user search and by importing contacts.
    Search,
}

impl PrivacySetting {
    /// Every setting, in wire order.
    pub const ALL: [PrivacySetting; 6] =
        [Self::DirectMessages, Self::GroupInvites, Self::Presence, Self::ProfilePhoto, Self::Bio, Self::Search];

    /// The stored number (also the wire number).
    pub fn code(self) -> i64 {
        match self {
            Self::DirectMessages => 1,
            Self::GroupInvites => 2,
            Self::Presence => 3,
            Self::ProfilePhoto => 4,
            Self::Bio => 5,
            Self::Search => 6,
        }
    }

    /// The setting of a stored number.
    pub fn from_code(code: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// Who a setting lets in (besides its exceptions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Anyone signed in.
    Everyone,
    /// People in the user's contacts.
    Contacts,
    /// Mutual contacts only: in the user's contacts and having the user in theirs.
    Friends,
    /// No one.
    Nobody,
}

impl Audience {
    /// The stored number (also the wire number).
    pub fn code(self) -> i64 {
        match self {
            Self::Everyone => 1,
            Self::Contacts => 2,
            Self::Friends => 3,
            Self::Nobody => 4,
        }
    }

    /// The audience of a stored number.
    pub fn from_code(code: i64) -> Option<Self> {
        [Self::Everyone, Self::Contacts, Self::Friends, Self::Nobody].into_iter().find(|a| a.code() == code)
    }
}

/// A user's rule for one setting: an audience, people always let in and people never let
/// in (the two lists never share anyone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivacyRule {
    /// Which setting.
    pub setting: PrivacySetting,
    /// Who is let in.
    pub audience: Audience,
    /// Let in whatever the audience says.
    pub allow: Vec<UserId>,
    /// Kept out whatever the audience says.
    pub deny: Vec<UserId>,
}

impl PrivacyRule {
    /// The rule of a setting nobody changed: everyone, no exceptions.
    pub fn default_for(setting: PrivacySetting) -> Self {
        Self { setting, audience: Audience::Everyone, allow: Vec::new(), deny: Vec::new() }
    }

    /// True when this rule lets everyone in (the default).
    pub fn is_open(&self) -> bool {
        self.audience == Audience::Everyone && self.deny.is_empty()
    }
}

/// What is known of one viewer toward one owner for a decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standing {
    /// The owner blocked the viewer.
    pub blocked: bool,
    /// The viewer is on the rule's allow list.
    pub allowed: bool,
    /// The viewer is on the rule's deny list.
    pub denied: bool,
    /// The viewer is in the owner's contacts.
    pub contact: bool,
    /// The owner is in the viewer's contacts.
    pub contact_back: bool,
}

/// Whether the owner's `audience` (with the viewer's standing) lets the viewer in. A block
/// keeps out of everything; then the deny list, the allow list and the audience decide,
/// in that order.
pub fn permits(audience: Audience, s: Standing) -> bool {
    if s.blocked || s.denied {
        return false;
    }
    if s.allowed {
        return true;
    }
    match audience {
        Audience::Everyone => true,
        Audience::Contacts => s.contact,
        Audience::Friends => s.contact && s.contact_back,
        Audience::Nobody => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_then_deny_then_allow_then_audience() {
        let everyone = Audience::Everyone;
        assert!(permits(everyone, Standing::default()));
        assert!(!permits(everyone, Standing { blocked: true, allowed: true, ..Standing::default() }));
        assert!(!permits(everyone, Standing { denied: true, ..Standing::default() }));
        assert!(permits(Audience::Nobody, Standing { allowed: true, ..Standing::default() }));
        assert!(!permits(Audience::Nobody, Standing { contact: true, contact_back: true, ..Standing::default() }));
        assert!(permits(Audience::Contacts, Standing { contact: true, ..Standing::default() }));
        assert!(!permits(Audience::Contacts, Standing { contact_back: true, ..Standing::default() }));
        assert!(!permits(Audience::Friends, Standing { contact: true, ..Standing::default() }));
        assert!(permits(Audience::Friends, Standing { contact: true, contact_back: true, ..Standing::default() }));
    }

    #[test]
    fn codes_round_trip() {
        for s in PrivacySetting::ALL {
            assert_eq!(PrivacySetting::from_code(s.code()), Some(s));
        }
        for a in [Audience::Everyone, Audience::Contacts, Audience::Friends, Audience::Nobody] {
            assert_eq!(Audience::from_code(a.code()), Some(a));
        }
        assert_eq!(PrivacySetting::from_code(0), None);
        assert_eq!(Audience::from_code(9), None);
    }
}
