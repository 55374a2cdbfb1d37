//! The records this crate stores, pinned at format 1 like the domain values in
//! `switchboard-format/tests/formats.rs`: each fixture must still decode to the value and
//! the value must still encode to the fixture.

use std::path::PathBuf;

use switchboard_core::{ConversationId, UserId};
use switchboard_format::Stored;

use crate::BanRecord;
use crate::invites::{InviteRecord, Policy, RequestRecord};

fn check<T: Stored + PartialEq + std::fmt::Debug>(name: &str, value: &T) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../switchboard-format/tests/fixtures/v1")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("fixture {} is missing", path.display()));
    let decoded: T = switchboard_format::decode(1, text.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(&decoded, value, "{name}: the fixture decodes to something else");
    let encoded: serde_json::Value = serde_json::from_str(&switchboard_format::encode(value)).unwrap();
    let fixture: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(encoded, fixture, "{name}: the value encodes differently from the fixture (a format change?)");
}

#[test]
fn invite_request_policy_and_ban_records_keep_their_format() {
    check(
        "invite_record",
        &InviteRecord {
            channel_id: Some(ConversationId::from_raw(21)),
            creator_id: UserId::from_raw(3),
            created_at_ms: 1_764_600_000_000,
            expires_at_ms: 0,
            max_uses: 10,
            uses: 2,
        },
    );
    check("request_record", &RequestRecord { message: "let me in".into(), created_at_ms: 1_764_600_000_000 });
    check("policy_record", &Policy { require_approval: true });
    check(
        "ban_record",
        &BanRecord { reason: "spam".into(), banned_by: UserId::from_raw(3), created_at_ms: 1_764_600_000_000 },
    );
}

#[test]
fn the_runtime_settings_record_keeps_its_format() {
    use switchboard_format::v1::{RateLimit, RuntimeSettings};
    let overrides = crate::server::Overrides(RuntimeSettings {
        rate_limit: Some(RateLimit { per_second: 5.0, burst: 20.0 }),
        auth_per_address: None,
        failed_logins_per_account: Some(RateLimit { per_second: 0.1, burst: 3.0 }),
    });
    check("runtime_settings", &overrides);
}
