//! The presence report nodes exchange over NATS, pinned like the events in
//! `switchboard-core/tests/formats.rs`: the fixture must still decode to the value and the
//! value still encode to the fixture, so that old and new nodes keep understanding each
//! other. `SWITCHBOARD_WRITE_FIXTURES=1` writes a missing fixture.

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
    };
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1/presence_report.json");
    let encoded = serde_json::to_value(&report).unwrap();
    if !path.exists() && std::env::var_os("SWITCHBOARD_WRITE_FIXTURES").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&encoded).unwrap() + "\n").unwrap();
    }
    let fixture: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let decoded: PresenceReport = serde_json::from_value(fixture.clone()).unwrap();
    assert_eq!(decoded, report, "the fixture decodes to something else");
    assert_eq!(encoded, fixture, "the report encodes differently from the fixture (a format change?)");
}
