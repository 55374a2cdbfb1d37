//! The domain model: users, sessions, conversations, members and messages.
//!
//! Times are milliseconds since the Unix epoch; sequence numbers start at 1.

use std::collections::BTreeMap;

use crate::ids::{ConversationId, CustomEmojiId, FileId, MessageId, SessionId, StickerId, StickerPackId, UserId};

/// A person or a bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Username as typed at registration.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Biography.
    pub bio: String,
    /// Status text.
    pub status_text: String,
    /// True for bot accounts.
    pub bot: bool,
    /// True for server administrators.
    pub admin: bool,
    /// True when disabled by an administrator.
    pub disabled: bool,
    /// True when the owner deleted the account: its profile is erased, its messages stay.
    pub deleted: bool,
    /// Registration time.
    pub created_at_ms: i64,
    /// The avatar: a public image file.
    pub avatar: Option<FileId>,
}

/// One login on one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Id.
    pub id: SessionId,
    /// Owner.
    pub user_id: UserId,
    /// Device name.
    pub device_name: String,
    /// Device platform.
    pub platform: String,
    /// Creation time.
    pub created_at_ms: i64,
    /// Last use.
    pub last_seen_at_ms: i64,
    /// Expiry of the current access token.
    pub access_expires_at_ms: i64,
}

/// The kinds of conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConversationKind {
    /// Two members, one conversation per pair.
    Direct,
    /// Every member posts.
    Group,
    /// Broadcast: only the owner and admins with the post right post.
    Channel,
    /// A space's own log: its members and the space's changes as service messages.
    Space,
    /// A channel of a space: access follows the space's roles and overwrites.
    SpaceChannel,
    /// A thread anchored on a message of another conversation.
    Thread,
}

impl ConversationKind {
    /// Stable storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Group => "group",
            Self::Channel => "channel",
            Self::Space => "space",
            Self::SpaceChannel => "space_channel",
            Self::Thread => "thread",
        }
    }

    /// Parses a storage name.
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "direct" => Some(Self::Direct),
            "group" => Some(Self::Group),
            "channel" => Some(Self::Channel),
            "space" => Some(Self::Space),
            "space_channel" => Some(Self::SpaceChannel),
            "thread" => Some(Self::Thread),
            _ => None,
        }
    }
}

/// A member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MemberRole {
    /// Plain member.
    Member,
    /// Admin with [`AdminRights`].
    Admin,
    /// Owner: every right.
    Owner,
}

impl MemberRole {
    /// Stable storage number.
    pub fn as_i64(self) -> i64 {
        match self {
            Self::Member => 0,
            Self::Admin => 1,
            Self::Owner => 2,
        }
    }

    /// Parses a storage number.
    pub fn from_i64(v: i64) -> Option<Self> {
        match v {
            0 => Some(Self::Member),
            1 => Some(Self::Admin),
            2 => Some(Self::Owner),
            _ => None,
        }
    }
}

/// What an admin may do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AdminRights {
    /// Add members.
    pub invite: bool,
    /// Remove plain members.
    pub remove_members: bool,
    /// Change title and about.
    pub edit_info: bool,
    /// Pin messages.
    pub pin: bool,
    /// Delete others' messages for everyone.
    pub delete_messages: bool,
    /// Post in a channel.
    pub post: bool,
}

impl AdminRights {
    /// Every right.
    pub const ALL: AdminRights = AdminRights {
        invite: true,
        remove_members: true,
        edit_info: true,
        pin: true,
        delete_messages: true,
        post: true,
    };

    /// Packs into bits for storage.
    pub fn to_bits(self) -> i64 {
        [self.invite, self.remove_members, self.edit_info, self.pin, self.delete_messages, self.post]
            .iter()
            .enumerate()
            .fold(0, |acc, (i, &b)| if b { acc | (1 << i) } else { acc })
    }

    /// Unpacks stored bits.
    pub fn from_bits(bits: i64) -> Self {
        let b = |i: u32| bits & (1 << i) != 0;
        Self { invite: b(0), remove_members: b(1), edit_info: b(2), pin: b(3), delete_messages: b(4), post: b(5) }
    }
}

/// A member's own settings for a conversation, synced to all their devices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberSettings {
    /// Muted until this time; 0 = not muted.
    pub muted_until_ms: i64,
    /// Pinned.
    pub pinned: bool,
    /// Archived.
    pub archived: bool,
    /// Draft text.
    pub draft: String,
}

/// A conversation's shared state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// Id.
    pub id: ConversationId,
    /// Kind.
    pub kind: ConversationKind,
    /// Title (empty for direct).
    pub title: String,
    /// Description.
    pub about: String,
    /// Owner (for direct: the starter).
    pub owner_id: UserId,
    /// Member count.
    pub member_count: u32,
    /// Latest sequence number of the log.
    pub last_seq: u64,
    /// Creation time.
    pub created_at_ms: i64,
    /// Time of the latest event.
    pub last_activity_at_ms: i64,
    /// For direct conversations: the two members, lower id first.
    pub direct_pair: Option<(UserId, UserId)>,
    /// For space channels: the space.
    pub space_id: Option<ConversationId>,
    /// For threads: the parent conversation and the root message.
    pub parent: Option<(ConversationId, MessageId)>,
    /// Whether members who join later see the history from before their join (groups and
    /// channels may turn it off; always true for the other kinds).
    pub history_shared: bool,
    /// Groups: only the owner and admins post for now ("mute all").
    pub admins_only: bool,
    /// The avatar: a public image file (groups, channels, spaces).
    pub avatar: Option<FileId>,
    /// The most recently pinned message still pinned, if any.
    pub pinned_message: Option<MessageId>,
}

impl Conversation {
    /// For a direct conversation, the member that is not `me`.
    pub fn peer_of(&self, me: UserId) -> Option<UserId> {
        self.direct_pair.map(|(a, b)| if a == me { b } else { a })
    }
}

/// A member of a conversation, with their watermarks and settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The user.
    pub user_id: UserId,
    /// Role.
    pub role: MemberRole,
    /// Admin rights (meaningful for admins).
    pub rights: AdminRights,
    /// Join time.
    pub joined_at_ms: i64,
    /// The conversation's seq when they joined.
    pub joined_seq: u64,
    /// Read watermark.
    pub read_seq: u64,
    /// Delivered watermark.
    pub delivered_seq: u64,
    /// History before this seq is hidden from them (clear history).
    pub visible_from_seq: u64,
    /// Muted by an admin: they may not post before this time; 0 = not muted.
    pub post_muted_until_ms: i64,
    /// Their settings.
    pub settings: MemberSettings,
}

/// Kinds of text entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    /// A user mention.
    Mention,
    /// @all.
    MentionAll,
    /// A link.
    Link,
    /// Bold.
    Bold,
    /// Italic.
    Italic,
    /// Code.
    Code,
    /// Mentions the holders of a space role (`role_id`).
    MentionRole,
    /// A custom emoji of the space (`custom_emoji_id`); the text it covers (its
    /// `:name:`) is what clients without the image show.
    CustomEmoji,
}

/// A span of text with a meaning; offsets count characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    /// Kind.
    pub kind: EntityKind,
    /// Start.
    pub offset: u32,
    /// Length.
    pub length: u32,
    /// Mentioned user.
    pub user_id: Option<UserId>,
    /// Link target.
    pub url: Option<String>,
    /// Mentioned role (space channels).
    pub role_id: Option<i64>,
    /// The custom emoji shown.
    pub custom_emoji_id: Option<CustomEmojiId>,
}

/// What a service message records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceAction {
    /// Created with a title.
    Created,
    /// Users added.
    MembersAdded,
    /// A user removed.
    MemberRemoved,
    /// The sender left.
    MemberLeft,
    /// New title.
    TitleChanged,
    /// New about text.
    AboutChanged,
    /// New owner.
    OwnershipTransferred,
    /// Promoted to admin or rights changed.
    AdminPromoted,
    /// Demoted.
    AdminDemoted,
    /// Joined by themselves (public space, invite link, approved request).
    MemberJoined,
    /// Removed and banned.
    MemberBanned,
    /// Unbanned.
    MemberUnbanned,
    /// Timed out (until `target_id` ms) or the timeout lifted (0).
    MemberTimedOut,
    /// A member's roles changed.
    MemberRolesChanged,
    /// The space's settings changed.
    SpaceSettingsChanged,
    /// A channel (`target_id`) was created, changed or moved.
    ChannelChanged,
    /// A channel (`target_id`) was deleted.
    ChannelDeleted,
    /// A folder (`target_id`) was created, changed or moved.
    FolderChanged,
    /// A folder (`target_id`) was deleted.
    FolderDeleted,
    /// A role (`target_id`) was created or changed.
    RoleChanged,
    /// A role (`target_id`) was deleted.
    RoleDeleted,
    /// A thread (`target_id`) was started on a message of this conversation.
    ThreadStarted,
    /// Whether later members see earlier history changed (`target_id` 1: they do, 0: they
    /// see from their join on).
    HistoryVisibilityChanged,
    /// A member's nickname, title or status in the space changed.
    MemberProfileChanged,
    /// The owner dismissed the group or channel: every member leaves, nobody joins again.
    ConversationDeleted,
    /// Only admins post (`target_id` 1) or everyone again (0).
    PostingRestricted,
    /// The avatar became file `target_id` (0: removed).
    AvatarChanged,
    /// Message `target_id` was pinned.
    MessagePinned,
    /// Message `target_id` was unpinned.
    MessageUnpinned,
}

/// A service message's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceContent {
    /// What happened.
    pub action: ServiceAction,
    /// Users concerned.
    pub user_ids: Vec<UserId>,
    /// New title or about text.
    pub title: String,
    /// The channel, folder, role or thread concerned, or a time; 0 when none.
    pub target_id: i64,
}

/// A message's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Text with entities.
    Text {
        /// The text; with attachments, their caption (may then be empty).
        text: String,
        /// Its entities.
        entities: Vec<Entity>,
        /// Files the message carries (an album when several), in order.
        attachments: Vec<Attachment>,
    },
    /// A membership or settings change.
    Service(ServiceContent),
    /// A sticker from a pack.
    Sticker(Sticker),
    /// Deleted for everyone: nothing is kept.
    Deleted,
}

/// A sticker as sent: which one it was and its image, kept with the message so that it
/// still shows after the pack changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sticker {
    /// The pack it came from.
    pub pack_id: StickerPackId,
    /// The sticker.
    pub sticker_id: StickerId,
    /// The emoji it stands for (shown where images are not, and in notifications).
    pub emoji: String,
    /// Its image (a public file).
    pub image: Attachment,
}

/// Where a forwarded message came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardInfo {
    /// Origin conversation.
    pub conversation_id: ConversationId,
    /// Origin message.
    pub message_id: MessageId,
    /// Origin sender.
    pub sender_id: UserId,
    /// Origin time.
    pub sent_at_ms: i64,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Id.
    pub id: MessageId,
    /// Conversation.
    pub conversation_id: ConversationId,
    /// Position in the conversation's log.
    pub seq: u64,
    /// Sender.
    pub sender_id: UserId,
    /// Store time.
    pub created_at_ms: i64,
    /// Last edit time.
    pub edited_at_ms: Option<i64>,
    /// Content.
    pub content: Content,
    /// Replied-to message.
    pub reply_to: Option<MessageId>,
    /// Forward origin.
    pub forward: Option<ForwardInfo>,
    /// Client metadata.
    pub metadata: BTreeMap<String, String>,
    /// Sender's idempotency key.
    pub client_key: Option<String>,
    /// The thread started on this message; filled by the service when it reads history,
    /// never stored with the message.
    pub thread: Option<Box<ThreadSummary>>,
    /// Reactions, one per emoji, in the order each emoji first appeared; filled when read.
    pub reactions: Vec<Reaction>,
    /// Marked important by its sender.
    pub important: bool,
    /// Sent silently: it notifies nobody.
    pub silent: bool,
    /// Preview cards of the first links of its text, added by the server after it was
    /// sent (empty until then, when the sender opted out, or when no link had one).
    pub link_previews: Vec<LinkPreview>,
    /// The sender opted out of link previews for it.
    pub no_link_preview: bool,
}

/// A preview card of a link in a message: the page's OpenGraph or Twitter-card facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPreview {
    /// The link as it appears in the message.
    pub url: String,
    /// The site's name.
    pub site_name: String,
    /// The page's title.
    pub title: String,
    /// The page's description.
    pub description: String,
    /// The page's image, re-hosted as a file of this server.
    pub image: Option<Attachment>,
}

/// One emoji's reactions on a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    /// The emoji (a Unicode emoji sequence).
    pub emoji: String,
    /// How many members reacted with it.
    pub count: u32,
    /// Whether the reader is one of them (filled for a reader; false in events).
    pub mine: bool,
}

/// Someone who reacted to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reactor {
    /// Who.
    pub user_id: UserId,
    /// With what.
    pub emoji: String,
    /// When, ms since the epoch.
    pub at_ms: i64,
}

/// Someone in a user's contacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// Who.
    pub user_id: UserId,
    /// The owner's own name for them (empty: their display name), at most 64 characters.
    pub remark: String,
    /// The owner's notes about them, at most 1024 characters.
    pub notes: String,
    /// They have the owner in their contacts too.
    pub mutual: bool,
    /// When the owner added them.
    pub added_at_ms: i64,
}

/// A friend request waiting for its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FriendRequest {
    /// Who asks.
    pub from: UserId,
    /// Whom.
    pub to: UserId,
    /// Their message, at most 256 characters.
    pub message: String,
    /// When it was sent.
    pub created_at_ms: i64,
}

/// What happened to a friend request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FriendRequestState {
    /// Sent, waiting.
    Sent,
    /// Taken back by the sender.
    Cancelled,
    /// Accepted: both are each other's contacts.
    Accepted,
    /// Declined.
    Rejected,
}

/// A message in someone's saved messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedMessage {
    /// The message, as it is now.
    pub message: Message,
    /// When it was saved, ms since the epoch.
    pub saved_at_ms: i64,
}

/// A pinned message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The message.
    pub message: Message,
    /// Who pinned it.
    pub pinned_by: UserId,
    /// When, ms since the epoch.
    pub pinned_at_ms: i64,
}

/// The thread on a message, as the message shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadSummary {
    /// The thread's conversation.
    pub thread_id: ConversationId,
    /// Messages posted in it (its log less the opening service message).
    pub reply_count: u32,
    /// Its latest activity.
    pub last_reply_at_ms: i64,
}

impl ThreadSummary {
    /// The summary of a thread conversation.
    pub fn of(thread: &Conversation) -> Self {
        Self {
            thread_id: thread.id,
            reply_count: thread.last_seq.saturating_sub(1).min(u64::from(u32::MAX)) as u32,
            last_reply_at_ms: thread.last_activity_at_ms,
        }
    }
}

impl Message {
    /// True when deleted for everyone.
    pub fn is_deleted(&self) -> bool {
        matches!(self.content, Content::Deleted)
    }
}

/// A message about to be stored; the store assigns id, seq and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Conversation.
    pub conversation_id: ConversationId,
    /// Sender.
    pub sender_id: UserId,
    /// Content (text or service).
    pub content: Content,
    /// Replied-to message.
    pub reply_to: Option<MessageId>,
    /// Forward origin.
    pub forward: Option<ForwardInfo>,
    /// Client metadata.
    pub metadata: BTreeMap<String, String>,
    /// Sender's idempotency key.
    pub client_key: Option<String>,
    /// Users mentioned by name.
    pub mentions: Vec<UserId>,
    /// True when it mentions everyone.
    pub mentions_all: bool,
    /// Marked important.
    pub important: bool,
    /// Notifies nobody.
    pub silent: bool,
    /// The sender opted out of link previews for this message.
    pub no_link_preview: bool,
}

impl NewMessage {
    /// A service message from `actor`.
    pub fn service(conversation_id: ConversationId, actor: UserId, content: ServiceContent) -> Self {
        Self {
            conversation_id,
            sender_id: actor,
            content: Content::Service(content),
            reply_to: None,
            forward: None,
            metadata: BTreeMap::new(),
            client_key: None,
            mentions: Vec::new(),
            mentions_all: false,
            important: false,
            silent: false,
            no_link_preview: false,
        }
    }
}

/// A file a message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file.
    pub file_id: FileId,
    /// Per-attachment text (alt text or a caption of one album item), at most 1024 characters.
    pub alt: String,
    /// Shown as a spoiler (blurred until tapped).
    pub spoiler: bool,
    /// The file as it is now; filled by the service when it returns the message, never
    /// stored with it.
    pub file: Option<Box<FileRecord>>,
}

impl Attachment {
    /// An attachment of `file_id` with nothing else set.
    pub fn of(file_id: FileId) -> Self {
        Self { file_id, alt: String::new(), spoiler: false, file: None }
    }
}

/// Where a file is in its processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    /// Stored; previews and media facts are being computed.
    Processing,
    /// Everything the server could compute is there.
    Ready,
}

impl FileState {
    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            FileState::Processing => "processing",
            FileState::Ready => "ready",
        }
    }

    /// From the stored name.
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "processing" => Some(FileState::Processing),
            "ready" => Some(FileState::Ready),
            _ => None,
        }
    }
}

/// A preview image of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    /// The size class: `small` (at most 320 px on the long side) or `large` (1280), or
    /// `avatar` (a square crop).
    pub size: String,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// SHA-256 of its bytes (hex): its blob.
    pub sha256: String,
    /// Bytes.
    pub bytes: u64,
    /// Its type (`image/webp` or `image/jpeg`).
    pub mime: String,
}

/// A stored file: what an upload produced, and what processing learned about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    /// Id.
    pub id: FileId,
    /// The uploader.
    pub owner_id: UserId,
    /// The name the uploader gave (sanitised), or `file`.
    pub name: String,
    /// The type sniffed from the bytes (never the client's claim), or
    /// `application/octet-stream`.
    pub mime: String,
    /// Bytes served.
    pub size: u64,
    /// SHA-256 of the bytes served (hex); for images the server removed metadata from,
    /// of the cleaned bytes.
    pub sha256: String,
    /// Pixels (images and video), after EXIF orientation.
    pub width: Option<u32>,
    /// Pixels.
    pub height: Option<u32>,
    /// Length of audio or video.
    pub duration_ms: Option<u64>,
    /// A blurred placeholder (blurhash) for images.
    pub blurhash: Option<String>,
    /// A voice note's waveform: up to 100 amplitudes 0-255.
    pub waveform: Vec<u8>,
    /// Previews, smallest first.
    pub thumbnails: Vec<Thumbnail>,
    /// Processing state.
    pub state: FileState,
    /// Readable by anyone signed in (avatars).
    pub public: bool,
    /// Upload completion time.
    pub created_at_ms: i64,
}
