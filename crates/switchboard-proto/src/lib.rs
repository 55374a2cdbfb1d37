//! Wire types of the Switchboard API, generated from `proto/switchboard/v1`.
//!
//! Every message implements `prost::Message` (binary protobuf) and serde's traits in the
//! proto3 JSON mapping (pbjson), so one type serves gRPC, WebSocket and HTTP.

/// The `switchboard.v1` package.
pub mod v1 {
    #![allow(missing_docs, clippy::all, clippy::pedantic)]
    include!(concat!(env!("OUT_DIR"), "/switchboard.v1.rs"));
    include!(concat!(env!("OUT_DIR"), "/switchboard.v1.serde.rs"));
}

include!(concat!(env!("OUT_DIR"), "/switchboard.v1.methods.rs"));

/// The encoded `FileDescriptorSet` of the API, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptor.bin"));

/// The protobuf package of every service, as it appears in gRPC paths.
pub const PACKAGE: &str = "switchboard.v1";
