//! The Switchboard server: configuration, start-up, the admin CLI, and `run`, which serves
//! an already-bound listener until a shutdown future resolves.

pub mod cli;
pub mod config;
mod datadir;
mod logging;
#[cfg(feature = "sqlite")]
mod maintenance;
mod progress;
mod search_index;
mod serve;
mod tls;

pub use config::Config;
pub use serve::{App, run};
