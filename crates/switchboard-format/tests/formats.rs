//! What is stored and what crosses the bus between nodes, pinned: each fixture in
//! `fixtures/v1/` is an encoding of a domain value in format 1 (a bus `Event` of every
//! kind, a presence report, a stored message content, forward origin and user-log entry of
//! every kind, a space layout and member record), as the server wrote it before the
//! formats were split from the domain types. Every fixture
//! must still decode to the value, and the value must still encode to the fixture, so a
//! change of format cannot slip in unnoticed: during a rolling restart old and new nodes
//! read each other's rows and events. A deliberate change adds new fixtures next to these
//! and keeps the old ones decoding. `SWITCHBOARD_WRITE_FIXTURES=1` writes missing ones.

use std::collections::BTreeMap;
use std::path::PathBuf;

use switchboard_core::event::{
    ConvEvent, ConvEventKind, Event, Presence, PresenceStatus, Receipt, SessionEndReason, ThreadActivity, Typing,
    UserEvent, UserEventKind,
};
use switchboard_core::model::{
    Attachment, Content, Entity, EntityKind, FileRecord, FileState, ForwardInfo, MemberSettings, Message,
    ServiceAction, ServiceContent, ThreadSummary, Thumbnail,
};
use switchboard_core::{ConversationId, FileId, MessageId, SessionId, UserId};
use switchboard_format::{FormatError, Stored};

fn c(n: i64) -> ConversationId {
    ConversationId::from_raw(n)
}

fn u(n: i64) -> UserId {
    UserId::from_raw(n)
}

fn m(n: i64) -> MessageId {
    MessageId::from_raw(n)
}

fn text_message() -> Message {
    Message {
        id: m(41),
        conversation_id: c(7),
        seq: 12,
        sender_id: u(3),
        created_at_ms: 1_764_600_000_000,
        edited_at_ms: Some(1_764_600_005_000),
        content: Content::Text {
            text: "hi @bob, see https://example.com".into(),
            entities: vec![
                Entity {
                    kind: EntityKind::Mention,
                    offset: 3,
                    length: 4,
                    user_id: Some(u(4)),
                    url: None,
                    role_id: None,
                    custom_emoji_id: None,
                },
                Entity {
                    kind: EntityKind::Link,
                    offset: 13,
                    length: 19,
                    user_id: None,
                    url: Some("https://example.com".into()),
                    role_id: None,
                    custom_emoji_id: None,
                },
            ],
            attachments: vec![],
        },
        reply_to: Some(m(40)),
        forward: Some(forward()),
        metadata: BTreeMap::from([("k".to_owned(), "v".to_owned())]),
        client_key: Some("opt-1".into()),
        thread: None,
        reactions: vec![],
        important: false,
        silent: false,
        link_previews: vec![],
        no_link_preview: false,
    }
}

fn link_previews() -> Vec<switchboard_core::model::LinkPreview> {
    vec![switchboard_core::model::LinkPreview {
        url: "https://example.com".into(),
        site_name: "Example".into(),
        title: "Example Domain".into(),
        description: "For use in examples".into(),
        image: Some(Attachment { file_id: FileId::from_raw(9), alt: String::new(), spoiler: false, file: None }),
    }]
}

fn forward() -> ForwardInfo {
    ForwardInfo { conversation_id: c(2), message_id: m(9), sender_id: u(5), sent_at_ms: 1_764_500_000_000 }
}

fn service_content() -> Content {
    Content::Service(ServiceContent {
        action: ServiceAction::MemberJoined,
        user_ids: vec![u(4)],
        title: String::new(),
        target_id: 0,
    })
}

fn user_kinds() -> Vec<(&'static str, UserEventKind)> {
    vec![
        ("joined", UserEventKind::ConversationJoined { conversation_id: c(7), joined_at_seq: 11 }),
        ("left", UserEventKind::ConversationLeft { conversation_id: c(7), removed: true, left_at_seq: 13 }),
        ("read", UserEventKind::ReadStateChanged { conversation_id: c(7), read_seq: 12, counts: None }),
        (
            "read_counted",
            UserEventKind::ReadStateChanged {
                conversation_id: c(7),
                read_seq: 12,
                counts: Some(switchboard_core::event::UnreadCounts { unread: 3, mentions: 1 }),
            },
        ),
        (
            "settings",
            UserEventKind::SettingsChanged {
                conversation_id: c(7),
                settings: MemberSettings { muted_until_ms: 5, pinned: true, archived: false, draft: "dr".into() },
            },
        ),
        ("cleared", UserEventKind::HistoryCleared { conversation_id: c(7), visible_from_seq: 10 }),
        ("hidden", UserEventKind::MessagesHidden { conversation_id: c(7), message_ids: vec![m(40), m(41)] }),
        ("join_requested", UserEventKind::JoinRequested { conversation_id: c(7), user_id: u(6) }),
        ("join_decided", UserEventKind::JoinRequestDecided { conversation_id: c(7), accepted: true }),
        (
            "session_ended",
            UserEventKind::SessionEnded {
                session_id: SessionId::from_raw(8),
                reason: SessionEndReason::PasswordChanged,
            },
        ),
        (
            "join_resolved",
            UserEventKind::JoinRequestResolved {
                conversation_id: c(7),
                user_id: u(6),
                accepted: false,
                decided_by: u(3),
            },
        ),
        (
            "session_started",
            UserEventKind::SessionStarted {
                session_id: SessionId::from_raw(9),
                device_name: "Ann's phone".into(),
                platform: "ios".into(),
            },
        ),
        (
            "contact_added",
            UserEventKind::ContactChanged {
                user_id: u(6),
                contact: Some(switchboard_core::model::Contact {
                    user_id: u(6),
                    remark: "Mum".into(),
                    notes: "call on Sundays".into(),
                    mutual: true,
                    added_at_ms: 1_764_600_000_000,
                }),
            },
        ),
        ("contact_removed", UserEventKind::ContactChanged { user_id: u(6), contact: None }),
        ("blocked", UserEventKind::BlockChanged { user_id: u(6), blocked: true }),
        (
            "privacy_changed",
            UserEventKind::PrivacyChanged {
                rule: switchboard_core::privacy::PrivacyRule {
                    setting: switchboard_core::privacy::PrivacySetting::Presence,
                    audience: switchboard_core::privacy::Audience::Contacts,
                    allow: vec![u(8)],
                    deny: vec![u(6), u(9)],
                },
            },
        ),
        (
            "friend_request_sent",
            UserEventKind::FriendRequestChanged {
                request: switchboard_core::model::FriendRequest {
                    from: u(3),
                    to: u(6),
                    message: "we met at the fair".into(),
                    created_at_ms: 1_764_600_000_000,
                },
                state: switchboard_core::model::FriendRequestState::Sent,
            },
        ),
        (
            "session_ended_replaced",
            UserEventKind::SessionEnded { session_id: SessionId::from_raw(8), reason: SessionEndReason::Replaced },
        ),
        (
            "user_settings",
            UserEventKind::UserSettingsChanged {
                changes: vec![("theme".into(), Some("dark".into())), ("compact".into(), None)],
            },
        ),
    ]
}

fn bus_events() -> Vec<(String, Event)> {
    let mut out = vec![
        (
            "created".to_owned(),
            Event::Conversation(ConvEvent {
                conversation_id: c(7),
                seq: 12,
                kind: ConvEventKind::MessageCreated,
                message: text_message(),
                actor: None,
                reaction: None,
            }),
        ),
        (
            "service".to_owned(),
            Event::Conversation(ConvEvent {
                conversation_id: c(7),
                seq: 13,
                kind: ConvEventKind::MessageCreated,
                message: Message {
                    content: service_content(),
                    forward: None,
                    reply_to: None,
                    client_key: None,
                    edited_at_ms: None,
                    metadata: BTreeMap::new(),
                    ..text_message()
                },
                actor: None,
                reaction: None,
            }),
        ),
        (
            "deleted".to_owned(),
            Event::Conversation(ConvEvent {
                conversation_id: c(7),
                seq: 14,
                kind: ConvEventKind::MessageDeleted,
                message: Message {
                    content: Content::Deleted,
                    forward: None,
                    reply_to: None,
                    metadata: BTreeMap::new(),
                    ..text_message()
                },
                actor: None,
                reaction: None,
            }),
        ),
        (
            "typing".to_owned(),
            Event::Typing(Typing { conversation_id: c(7), user_id: u(3), typing: true, expires_at_ms: 99 }),
        ),
        (
            "presence".to_owned(),
            Event::Presence(Presence { user_id: u(3), status: PresenceStatus::Away, last_seen_at_ms: 0 }),
        ),
        (
            "receipt".to_owned(),
            Event::Receipt(Receipt { conversation_id: c(7), user_id: u(4), read_seq: 12, delivered_seq: 13 }),
        ),
        (
            "thread_activity".to_owned(),
            Event::ThreadActivity(ThreadActivity {
                conversation_id: c(7),
                root_message_id: m(41),
                thread: ThreadSummary { thread_id: c(20), reply_count: 3, last_reply_at_ms: 77 },
            }),
        ),
        (
            "deleted_by".to_owned(),
            Event::Conversation(ConvEvent {
                conversation_id: c(7),
                seq: 15,
                kind: ConvEventKind::MessageDeleted,
                message: Message {
                    content: Content::Deleted,
                    forward: None,
                    metadata: BTreeMap::new(),
                    ..text_message()
                },
                actor: Some(switchboard_core::event::EventActor { user_id: u(4), at_ms: 1_764_600_009_000 }),
                reaction: None,
            }),
        ),
        (
            "reaction".to_owned(),
            Event::Conversation(ConvEvent {
                conversation_id: c(7),
                seq: 16,
                kind: ConvEventKind::ReactionAdded,
                message: Message {
                    reactions: vec![switchboard_core::model::Reaction { emoji: "👍".into(), count: 2, mine: false }],
                    ..text_message()
                },
                actor: Some(switchboard_core::event::EventActor { user_id: u(4), at_ms: 1_764_600_010_000 }),
                reaction: Some("👍".into()),
            }),
        ),
        (
            "previewed".to_owned(),
            Event::Conversation(ConvEvent {
                conversation_id: c(7),
                seq: 17,
                kind: ConvEventKind::PreviewAdded,
                message: Message { link_previews: link_previews(), ..text_message() },
                actor: Some(switchboard_core::event::EventActor { user_id: u(3), at_ms: 1_764_600_011_000 }),
                reaction: None,
            }),
        ),
        (
            "opted_out".to_owned(),
            Event::Conversation(ConvEvent {
                conversation_id: c(7),
                seq: 18,
                kind: ConvEventKind::MessageCreated,
                message: Message { no_link_preview: true, ..text_message() },
                actor: None,
                reaction: None,
            }),
        ),
        (
            "online_message".to_owned(),
            Event::OnlineMessage(Message {
                id: m(0),
                seq: 0,
                important: true,
                silent: true,
                forward: None,
                reply_to: None,
                edited_at_ms: None,
                metadata: BTreeMap::new(),
                ..text_message()
            }),
        ),
        ("caught_up".to_owned(), Event::CaughtUp { user_seq: 5 }),
        (
            "user_updated".to_owned(),
            Event::UserUpdated {
                user: switchboard_core::model::User {
                    id: u(3),
                    username: "ann".into(),
                    display_name: "Ann".into(),
                    bio: "b".into(),
                    status_text: "s".into(),
                    bot: false,
                    admin: false,
                    disabled: false,
                    deleted: false,
                    created_at_ms: 1_764_000_000_000,
                    avatar: None,
                },
                shared_with: vec![c(7), c(20)],
                partial: false,
            },
        ),
        ("resync".to_owned(), Event::ResyncRequired { conversation_id: Some(c(7)) }),
        (
            "file_ready".to_owned(),
            Event::FileReady {
                file: FileRecord {
                    id: FileId::from_raw(9),
                    owner_id: u(3),
                    name: "view.jpg".into(),
                    mime: "image/jpeg".into(),
                    size: 120_000,
                    sha256: "ab".repeat(32),
                    width: Some(1600),
                    height: Some(900),
                    duration_ms: None,
                    blurhash: Some("LEHV6nWB2yk8pyo0adR*.7kCMdnj".into()),
                    waveform: vec![],
                    thumbnails: vec![Thumbnail {
                        size: "small".into(),
                        width: 320,
                        height: 180,
                        sha256: "cd".repeat(32),
                        bytes: 9000,
                        mime: "image/jpeg".into(),
                    }],
                    state: FileState::Ready,
                    public: false,
                    created_at_ms: 1_764_600_010_000,
                },
                shared_with: vec![c(7)],
            },
        ),
    ];
    for (name, kind) in user_kinds() {
        out.push((
            format!("user_{name}"),
            Event::User(UserEvent { user_id: u(3), user_seq: 4, kind, created_at_ms: 1 }),
        ));
    }
    out
}

fn check<T: Stored + PartialEq + std::fmt::Debug>(name: &str, value: &T) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1").join(format!("{name}.json"));
    let encoded: serde_json::Value = serde_json::from_str(&switchboard_format::encode(value)).unwrap();
    if !path.exists() && std::env::var_os("SWITCHBOARD_WRITE_FIXTURES").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&encoded).unwrap() + "\n").unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("fixture {} is missing", path.display()));
    let decoded: T = switchboard_format::decode(1, text.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(&decoded, value, "{name}: the fixture decodes to something else");
    let fixture: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(encoded, fixture, "{name}: the value encodes differently from the fixture (a format change?)");
}

#[test]
fn every_bus_event_kind_keeps_its_format() {
    for (name, event) in bus_events() {
        check(&format!("bus_event_{name}"), &event);
    }
}

#[test]
fn stored_message_parts_keep_their_format() {
    check("content_text", &text_message().content);
    check("content_service", &service_content());
    check("content_deleted", &Content::Deleted);
    check(
        "content_role_mention",
        &Content::Text {
            text: "@mods look".into(),
            entities: vec![Entity {
                kind: EntityKind::MentionRole,
                offset: 0,
                length: 5,
                user_id: None,
                url: None,
                role_id: Some(3),
                custom_emoji_id: None,
            }],
            attachments: vec![],
        },
    );
    check(
        "content_custom_emoji",
        &Content::Text {
            text: "nice :parrot:".into(),
            entities: vec![Entity {
                kind: EntityKind::CustomEmoji,
                offset: 5,
                length: 8,
                user_id: None,
                url: None,
                role_id: None,
                custom_emoji_id: Some(switchboard_core::CustomEmojiId::from_raw(41)),
            }],
            attachments: vec![],
        },
    );
    check(
        "content_sticker",
        &Content::Sticker(switchboard_core::model::Sticker {
            pack_id: switchboard_core::StickerPackId::from_raw(5),
            sticker_id: switchboard_core::StickerId::from_raw(6),
            emoji: "😺".into(),
            image: Attachment::of(FileId::from_raw(7)),
        }),
    );
    check(
        "content_attachments",
        &Content::Text {
            text: String::new(),
            entities: vec![],
            attachments: vec![
                Attachment { file_id: FileId::from_raw(7), alt: "the view".into(), spoiler: false, file: None },
                Attachment { file_id: FileId::from_raw(8), alt: String::new(), spoiler: true, file: None },
            ],
        },
    );
    check(
        "content_service_history_visibility",
        &Content::Service(ServiceContent {
            action: ServiceAction::HistoryVisibilityChanged,
            user_ids: vec![],
            title: String::new(),
            target_id: 1,
        }),
    );
    check("forward", &forward());
    check("metadata", &text_message().metadata);
    check("link_previews", &link_previews());
}

#[test]
fn every_user_log_entry_keeps_its_format() {
    for (name, kind) in user_kinds() {
        check(&format!("user_event_{name}"), &kind);
    }
}

fn layout() -> switchboard_core::space::SpaceLayout {
    use switchboard_core::space::{ChannelPlace, Folder, Overwrite, OverwriteTarget, Permissions, Role, SpaceLayout};
    SpaceLayout {
        public: true,
        require_approval: false,
        default_channel: Some(c(21)),
        roles: vec![
            Role {
                id: 0,
                name: "everyone".into(),
                colour: 0,
                position: 0,
                permissions: Permissions::VIEW.union(Permissions::SEND),
                parents: vec![],
                mentionable: false,
            },
            Role {
                id: 3,
                name: "mods".into(),
                colour: 0x3366ff,
                position: 2,
                permissions: Permissions::VIEW,
                parents: vec![0],
                mentionable: false,
            },
        ],
        folders: vec![Folder { id: 4, name: "Talk".into(), parent_id: 0, position: 1 }],
        channels: vec![ChannelPlace {
            id: c(21),
            folder_id: 4,
            position: 0,
            announcement: true,
            private: false,
            overwrites: vec![
                Overwrite { target: OverwriteTarget::Role(3), allow: Permissions::SEND, deny: Permissions::default() },
                Overwrite {
                    target: OverwriteTarget::Member(u(9)),
                    allow: Permissions::default(),
                    deny: Permissions::VIEW,
                },
            ],
        }],
        next_id: 5,
    }
}

#[test]
fn sticker_packs_and_custom_emoji_keep_their_format() {
    use switchboard_core::expressions::{CustomEmoji, EmojiSet, PackSticker, StickerPack};
    check(
        "sticker_pack",
        &StickerPack {
            id: switchboard_core::StickerPackId::from_raw(5),
            space_id: Some(c(8)),
            name: "Cats".into(),
            stickers: vec![PackSticker {
                id: switchboard_core::StickerId::from_raw(6),
                emoji: "😺".into(),
                image: Attachment::of(FileId::from_raw(7)),
            }],
            created_by: u(3),
            created_at_ms: 1_764_700_000_000,
            version: 0,
        },
    );
    check(
        "emoji_set",
        &EmojiSet {
            emoji: vec![CustomEmoji {
                id: switchboard_core::CustomEmojiId::from_raw(41),
                space_id: c(8),
                name: "parrot".into(),
                image: Attachment::of(FileId::from_raw(9)),
                created_by: u(3),
                created_at_ms: 1_764_700_000_000,
            }],
        },
    );
}

#[test]
fn space_records_keep_their_format() {
    check("space_layout", &layout());
    check(
        "space_member",
        &switchboard_core::space::SpaceMember {
            roles: vec![3],
            timeout_until_ms: 1_764_700_000_000,
            ..switchboard_core::space::SpaceMember::new(u(9))
        },
    );
    check(
        "space_member_profile",
        &switchboard_core::space::SpaceMember {
            roles: vec![3],
            nickname: "Annie".into(),
            title: "Head of design".into(),
            status: "on leave".into(),
            ..switchboard_core::space::SpaceMember::new(u(9))
        },
    );
}

#[test]
fn a_presence_report_keeps_its_format() {
    // Bus-owned; pinned here at the level of its encoding.
    let report = switchboard_format::v1::PresenceReport {
        node: 0x5eed_0000_0000_0001,
        full: false,
        users: vec![(3, Some(switchboard_format::v1::PresenceStatus::Online)), (4, None)],
        revoked: Vec::new(),
    };
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1/presence_report.json");
    let fixture: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(serde_json::from_value::<switchboard_format::v1::PresenceReport>(fixture.clone()).unwrap(), report);
    assert_eq!(serde_json::to_value(&report).unwrap(), fixture);
}

#[test]
fn an_unknown_format_is_refused_by_name_and_garbage_is_corrupt() {
    let body = switchboard_format::encode(&Content::Deleted);
    match switchboard_format::decode::<Content>(2, body.as_bytes()) {
        Err(FormatError::Unknown { format: 2, what }) => assert_eq!(what, "message content"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        switchboard_format::decode::<Event>(1, b"{\"Nope\":1}"),
        Err(FormatError::Corrupt { format: 1, .. })
    ));
}

#[test]
fn a_field_added_by_a_newer_node_is_ignored_and_unknown_permissions_survive() {
    // A newer node may add a defaulted field within format 1; this node reads past it.
    let newer = r#"{"user_id":9,"roles":[3],"timeout_until_ms":0,"nickname":"x"}"#;
    let m: switchboard_core::space::SpaceMember = switchboard_format::decode(1, newer.as_bytes()).unwrap();
    assert_eq!(m.roles, vec![3]);
    // A permission bit this build does not know is kept when the record is written back.
    let mut layout = layout();
    layout.roles[1].permissions = switchboard_core::space::Permissions::from_bits_retain(1 << 40 | 1);
    let back: switchboard_core::space::SpaceLayout =
        switchboard_format::decode(1, switchboard_format::encode(&layout).as_bytes()).unwrap();
    assert_eq!(back.roles[1].permissions.bits(), 1 << 40 | 1);
}
