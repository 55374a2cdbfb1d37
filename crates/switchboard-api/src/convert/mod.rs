//! Conversions between wire types (proto) and domain types, at the edge.

mod conversations;
mod events;
mod expressions;
mod files;
mod messages;
mod server;
mod spaces;
mod users;

pub use conversations::*;
pub use events::*;
pub use expressions::*;
pub use files::*;
pub use messages::*;
pub use server::*;
pub use spaces::*;
pub use users::*;

use switchboard_core::ValidationError;

/// A sequence number from the wire: logs are numbered in signed 64-bit integers, so
/// anything above `i64::MAX` cannot name a position.
pub fn seq(value: u64, field: &'static str) -> Result<u64, ValidationError> {
    if value > i64::MAX as u64 {
        return Err(ValidationError::new(field, format!("{value} is not a sequence number (at most 2^63 - 1)")));
    }
    Ok(value)
}

/// Parses a list of wire ids.
pub fn ids<T>(
    raw: &[String],
    field: &'static str,
    parse: fn(&str, &'static str) -> Result<T, ValidationError>,
) -> Result<Vec<T>, ValidationError> {
    raw.iter().map(|s| parse(s, field)).collect()
}
