//! The presence report nodes exchange over NATS, pinned like the events in
//! `switchboard-format/tests/formats.rs`: the fixture must still decode to the report and
//! the report still encode to the fixture, so that old and new nodes keep understanding
//! each other.

use std::path::PathBuf;

use switchboard_bus::PresenceReport;
use switchboard_core::UserId;
use switchboard_core::event::PresenceStatus;

#[test]
fn the_presence_report_keeps_its_format() {
    let report = PresenceReport {
        node: 0x5eed_0000_0000_0001,
        full: false,
        users: vec![(UserId::from_raw(3), Some(PresenceStatus::Online)), (UserId::from_raw(4), None)],
        revoked: Vec::new(),
    };
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../switchboard-format/tests/fixtures/v1/presence_report.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let decoded: PresenceReport = switchboard_format::decode(1, text.as_bytes()).unwrap();
    assert_eq!(decoded, report, "the fixture decodes to something else");
    let again: PresenceReport = switchboard_format::decode(1, switchboard_format::encode(&report).as_bytes()).unwrap();
    assert_eq!(again, report);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&switchboard_format::encode(&report)).unwrap(),
        serde_json::from_str::<serde_json::Value>(&text).unwrap(),
        "the report encodes differently from the fixture (a format change?)"
    );
}
