//! What is stored and what crosses the bus between nodes, in explicitly versioned formats
//! kept apart from the domain types.
//!
//! The domain types in `switchboard-core` carry no serialisation: changing one cannot
//! change what is on disk or on the wire. Each persisted or transmitted value has a
//! counterpart per format (`v1::Content`, `v1::Event`, ...) that is its encoding, frozen by
//! the fixtures in `tests/fixtures/v1`: every fixture must still decode, and today's
//! values must still encode to it.
//!
//! Every stored row and every bus message says which format it is in. A build writes
//! [`CURRENT`] and reads every format listed in [`READS`]; a value in a format it does not
//! read is refused by name ([`FormatError::Unknown`]) instead of misread.
//!
//! How a format evolves:
//! - A field added with a default (`#[serde(default)]`) stays in the same format: older
//!   nodes ignore it (no type here denies unknown fields), newer ones read old values
//!   with the default.
//! - Anything an older node could not read (a new enum variant, a changed meaning) takes a
//!   new module `v2` and a new number. One release reads both and still writes the old
//!   one; once every node runs it, the next release writes the new one. A rolling restart
//!   therefore never has a node meet a format it cannot read.

pub mod v1;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The format this build writes.
pub const CURRENT: u32 = 1;

/// The formats this build reads.
pub const READS: &[u32] = &[1];

/// Why a stored or received value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// Written in a format this build does not read (by a newer version).
    #[error(
        "{what} is in format {format}, which this node does not read (it reads {READS:?}); a newer version wrote it"
    )]
    Unknown {
        /// What was being read.
        what: &'static str,
        /// The format it declares.
        format: u32,
    },
    /// Declares a known format but does not decode as one.
    #[error("{what} does not decode as format {format}: {reason}")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// The format it declares.
        format: u32,
        /// The decoder's complaint.
        reason: String,
    },
}

/// A domain value with a stored or transmitted encoding.
pub trait Stored: Sized {
    /// What the value is called in errors.
    const WHAT: &'static str;
    /// Its encoding in format 1.
    type V1: Serialize + DeserializeOwned;
    /// The value in format 1.
    fn to_v1(&self) -> Self::V1;
    /// The value from format 1.
    fn from_v1(v: Self::V1) -> Self;
}

/// `value` encoded in [`CURRENT`].
pub fn encode<T: Stored>(value: &T) -> String {
    // Serialising these plain structs and enums (string keys only) cannot fail.
    serde_json::to_string(&value.to_v1()).unwrap_or_default()
}

/// A value read from `bytes`, which say they are in `format`.
pub fn decode<T: Stored>(format: u32, bytes: &[u8]) -> Result<T, FormatError> {
    match format {
        1 => serde_json::from_slice::<T::V1>(bytes).map(T::from_v1).map_err(|e| FormatError::Corrupt {
            what: T::WHAT,
            format,
            reason: e.to_string(),
        }),
        _ => Err(FormatError::Unknown { what: T::WHAT, format }),
    }
}

/// Whether this build reads `format`.
pub fn reads(format: u32) -> bool {
    READS.contains(&format)
}
