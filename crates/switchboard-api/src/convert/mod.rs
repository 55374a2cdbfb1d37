//! Conversions between wire types (proto) and domain types, at the edge.

mod conversations;
mod events;
mod messages;
mod spaces;
mod users;

pub use conversations::*;
pub use events::*;
pub use messages::*;
pub use spaces::*;
pub use users::*;

use switchboard_core::ValidationError;

/// Parses a list of wire ids.
pub fn ids<T>(
    raw: &[String],
    field: &'static str,
    parse: fn(&str, &'static str) -> Result<T, ValidationError>,
) -> Result<Vec<T>, ValidationError> {
    raw.iter().map(|s| parse(s, field)).collect()
}
