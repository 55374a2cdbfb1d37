//! The typed configuration, loaded in layers: defaults, then a TOML file, then
//! `SWITCHBOARD_*` environment variables, then command-line flags.
//!
//! Environment variables address any key: `SWITCHBOARD_LISTEN` sets `listen`,
//! `SWITCHBOARD_SERVICE__MAX_MESSAGE_CHARS` sets `service.max_message_chars` (`__` goes
//! one table down). Values are read as TOML literals when they parse as one, else as strings.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use switchboard_service::ServiceConfig;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// SQLite sync mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncMode {
    /// fsync every commit (durable across power loss).
    Full,
    /// fsync at checkpoints (durable across process crashes).
    Normal,
}

/// The embedded store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SqliteConfig {
    /// Sync mode.
    pub synchronous: SyncMode,
    /// Most writes per group commit.
    pub max_batch: usize,
    /// Reader connections, and the most reads running at once.
    pub readers: usize,
    /// Least milliseconds between background WAL checkpoints (0: SQLite's own, on the writer).
    pub checkpoint_interval_ms: u64,
}

impl Default for SqliteConfig {
    fn default() -> Self {
        Self { synchronous: SyncMode::Full, max_batch: 512, readers: 4, checkpoint_interval_ms: 1000 }
    }
}

/// The PostgreSQL store (cluster mode).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PostgresConfig {
    /// Schema to use, created if missing; empty uses the database's search path.
    pub schema: String,
    /// Pooled connections per node.
    pub pool_size: usize,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self { schema: String::new(), pool_size: 16 }
    }
}

/// The NATS bus (cluster mode).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct NatsConfig {
    /// Subject prefix; nodes of one cluster share it.
    pub prefix: String,
}

impl Default for NatsConfig {
    fn default() -> Self {
        Self { prefix: "switchboard".into() }
    }
}

/// Transport limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TransportConfig {
    /// Largest WebSocket frame, HTTP body or gRPC message, in bytes.
    pub max_frame_bytes: usize,
    /// WebSocket ping interval, seconds.
    pub ping_interval_secs: u64,
    /// Close a WebSocket silent for this many seconds.
    pub idle_timeout_secs: u64,
    /// Requests in flight per WebSocket.
    pub max_inflight_per_connection: usize,
    /// Seconds to wait for connections to drain on shutdown.
    pub shutdown_grace_secs: u64,
    /// Drop a WebSocket whose writes block this many seconds (its peer stopped reading).
    pub write_timeout_secs: u64,
    /// Behind a reverse proxy: the header with the client's address (e.g.
    /// `x-forwarded-for`; its last entry counts). Empty: the TCP peer is the client.
    pub client_address_header: String,
    /// Browser origins allowed to call the API cross-origin (CORS), e.g.
    /// `["https://chat.example.com"]`; `["*"]` for any; empty (the default) for none.
    pub cors_origins: Vec<String>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            max_frame_bytes: 1 << 20,
            ping_interval_secs: 20,
            idle_timeout_secs: 60,
            max_inflight_per_connection: 32,
            shutdown_grace_secs: 10,
            write_timeout_secs: 10,
            client_address_header: String::new(),
            cors_origins: Vec::new(),
        }
    }
}

/// Everything the server can be told.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address to listen on for gRPC, WebSocket and HTTP.
    pub listen: String,
    /// Directory for the database and other state; created if missing.
    pub data_dir: PathBuf,
    /// Where data lives: `sqlite` (a file in the data directory) or a PostgreSQL URL
    /// (`postgres://user@host:5432/db`) for cluster mode.
    pub store: String,
    /// How events reach other nodes: `local` (single node) or a NATS URL
    /// (`nats://host:4222`) for cluster mode.
    pub bus: String,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter (`info`, `switchboard=debug,info`, ...); `RUST_LOG` wins when set.
    pub log_level: String,
    /// The embedded store.
    pub sqlite: SqliteConfig,
    /// The PostgreSQL store.
    pub postgres: PostgresConfig,
    /// The NATS bus.
    pub nats: NatsConfig,
    /// Transport limits.
    pub transport: TransportConfig,
    /// Use-case limits and policies.
    pub service: ServiceConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:8080".into(),
            data_dir: PathBuf::from("switchboard-data"),
            store: "sqlite".into(),
            bus: "local".into(),
            log_format: LogFormat::Text,
            log_level: "info".into(),
            sqlite: SqliteConfig::default(),
            postgres: PostgresConfig::default(),
            nats: NatsConfig::default(),
            transport: TransportConfig::default(),
            service: ServiceConfig::default(),
        }
    }
}

fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

fn env_layer(vars: impl Iterator<Item = (String, String)>) -> toml::Value {
    let mut root = toml::Table::new();
    for (key, value) in vars {
        let Some(path) = key.strip_prefix("SWITCHBOARD_") else {
            continue;
        };
        if path == "CONFIG" || path.starts_with("TEST_") {
            continue;
        }
        let parts: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
        let parsed = format!("v = {value}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or(toml::Value::String(value));
        let mut table = &mut root;
        for part in &parts[..parts.len() - 1] {
            let entry = table.entry(part.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            let toml::Value::Table(t) = entry else { unreachable!("made a table just above") };
            table = t;
        }
        if let Some(last) = parts.last() {
            table.insert(last.clone(), parsed);
        }
    }
    toml::Value::Table(root)
}

impl Config {
    /// Loads defaults, then `file` (if any), then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        Self::load_from(file, std::env::vars())
    }

    /// As [`Config::load`], with the environment given.
    pub fn load_from(file: Option<&Path>, env: impl Iterator<Item = (String, String)>) -> anyhow::Result<Self> {
        let mut value = toml::Value::try_from(Config::default()).context("serialize defaults")?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).with_context(|| format!("read config file {}", path.display()))?;
            let table: toml::Table = text.parse().with_context(|| format!("parse config file {}", path.display()))?;
            merge(&mut value, toml::Value::Table(table));
        }
        merge(&mut value, env_layer(env));
        value.try_into().context("invalid configuration")
    }

    /// The SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("switchboard.db")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>().into_iter()
    }

    #[test]
    fn defaults_need_no_file_and_no_environment() {
        let c = Config::load_from(None, env(&[])).unwrap();
        assert_eq!(c.listen, "0.0.0.0:8080");
        assert_eq!(c.service.max_message_chars, 4096);
    }

    #[test]
    fn the_environment_overrides_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:1\"\n[service]\nmax_message_chars = 10\nregistration = \"closed\"\n",
        )
        .unwrap();
        let c = Config::load_from(Some(&path), env(&[("SWITCHBOARD_SERVICE__MAX_MESSAGE_CHARS", "20")])).unwrap();
        assert_eq!(c.listen, "127.0.0.1:1");
        assert_eq!(c.service.max_message_chars, 20);
        assert_eq!(c.service.registration, switchboard_service::RegistrationMode::Closed);
        let c = Config::load_from(Some(&path), env(&[("SWITCHBOARD_LISTEN", "127.0.0.1:2")])).unwrap();
        assert_eq!(c.listen, "127.0.0.1:2");
    }

    #[test]
    fn a_bad_value_is_an_error_that_names_it() {
        let err = Config::load_from(None, env(&[("SWITCHBOARD_SERVICE__MAX_MESSAGE_CHARS", "lots")])).unwrap_err();
        assert!(format!("{err:#}").contains("max_message_chars"), "{err:#}");
    }
}
