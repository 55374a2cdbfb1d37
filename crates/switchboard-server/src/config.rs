//! The typed configuration, loaded in layers: defaults, then a TOML file, then
//! `SWITCHBOARD_*` environment variables, then command-line flags.
//!
//! Environment variables address any key: `SWITCHBOARD_LISTEN` sets `listen`,
//! `SWITCHBOARD_SERVICE__MAX_MESSAGE_CHARS` sets `service.max_message_chars` (`__` goes
//! one table down). Values are read as TOML literals when they parse as one, else as strings.
//!
//! A key the configuration does not have — in the file or as a `SWITCHBOARD_*` variable —
//! is an error that names the nearest valid one, and [`Config::validate`] refuses values
//! out of range instead of clamping them: a typo never leaves a setting at its default.

use std::collections::BTreeMap;

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
    /// TLS to the database: `disable` (plain TCP), `require` (encrypted; the server's
    /// certificate is not checked, as libpq's sslmode=require) or `verify-full` (encrypted,
    /// certificate chain and host name checked against `tls_ca_file` or the system's roots).
    pub tls: PgTls,
    /// PEM file of the certificate authorities to trust for `verify-full`; empty uses the
    /// system's roots.
    pub tls_ca_file: PathBuf,
}

/// TLS to PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PgTls {
    /// Plain TCP.
    Disable,
    /// Encrypted, certificate not checked.
    Require,
    /// Encrypted, certificate and host name checked.
    VerifyFull,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self { schema: String::new(), pool_size: 16, tls: PgTls::Disable, tls_ca_file: PathBuf::new() }
    }
}

/// The NATS bus (cluster mode).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct NatsConfig {
    /// Subject prefix; nodes of one cluster share it.
    pub prefix: String,
    /// PEM file of the certificate authorities to trust for TLS to NATS (a `tls://` bus
    /// URL, or a server that requires TLS); empty uses the system's roots.
    pub tls_ca_file: PathBuf,
}

impl Default for NatsConfig {
    fn default() -> Self {
        Self { prefix: "switchboard".into(), tls_ca_file: PathBuf::new() }
    }
}

/// TLS on the listener. Without a certificate the server speaks plain HTTP/1.1 and h2c
/// (for a TLS-terminating proxy in front, or loopback).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TlsConfig {
    /// PEM certificate chain (leaf first). Set together with `key_file` to serve HTTPS,
    /// WSS and gRPC over TLS on `listen`.
    pub cert_file: PathBuf,
    /// PEM private key of the certificate (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
    /// Seconds between checks for a changed certificate or key (0: only on SIGHUP). A
    /// pair that does not load is logged and the one in use is kept.
    pub reload_secs: u64,
}

/// Where file bytes are kept. Limits on files (sizes, quotas, types) are under
/// `service.files`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct FilesStorageConfig {
    /// `data-dir` (the `files` directory of the data directory; the embedded default) or
    /// `s3` (any S3-compatible object store; needed by a cluster, whose nodes share it).
    pub storage: String,
    /// The S3-compatible store, for `storage = "s3"`: endpoint URL (path-style requests,
    /// plain http allowed on a local network), bucket (it must exist), region, access key
    /// id, secret access key, key prefix.
    pub s3: switchboard_service::S3Options,
}

impl Default for FilesStorageConfig {
    fn default() -> Self {
        Self { storage: "data-dir".into(), s3: switchboard_service::S3Options::default() }
    }
}

/// The web client served at `/`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WebConfig {
    /// Serve the web client at `/` (and at every path the API does not own, so that deep
    /// links such as `/c/42` open it). False leaves only the API on `listen`.
    pub enabled: bool,
    /// A directory whose files replace the built-in client (its `index.html` is the page;
    /// `{{assets}}` in it becomes the hashed asset prefix). Empty: the client built into
    /// the binary.
    pub dir: PathBuf,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self { enabled: true, dir: PathBuf::new() }
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
    /// When set, `/metrics` needs `Authorization: Bearer <this>`; empty (the default) leaves
    /// it open (keep it off the public interface then).
    pub metrics_token: String,
    /// When set (e.g. `127.0.0.1:9090`), `/metrics` is served on this address only, in
    /// plain HTTP, and not on `listen`; empty (the default) serves it on `listen`.
    pub metrics_listen: String,
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
            metrics_token: String::new(),
            metrics_listen: String::new(),
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
    /// One log line per request (method, result, duration, user id; never a token).
    pub log_access: bool,
    /// The embedded store.
    pub sqlite: SqliteConfig,
    /// The PostgreSQL store.
    pub postgres: PostgresConfig,
    /// The NATS bus.
    pub nats: NatsConfig,
    /// TLS on the listener.
    pub tls: TlsConfig,
    /// Transport limits.
    pub transport: TransportConfig,
    /// Where file bytes are kept.
    pub files: FilesStorageConfig,
    /// The web client.
    pub web: WebConfig,
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
            log_access: false,
            sqlite: SqliteConfig::default(),
            postgres: PostgresConfig::default(),
            nats: NatsConfig::default(),
            tls: TlsConfig { reload_secs: 30, ..TlsConfig::default() },
            transport: TransportConfig::default(),
            files: FilesStorageConfig::default(),
            web: WebConfig::default(),
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

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// The configuration file.
    File,
    /// A `SWITCHBOARD_*` environment variable.
    Environment,
    /// A command-line flag.
    Flag,
}

impl Source {
    /// How `config show` names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::File => "file",
            Self::Environment => "environment",
            Self::Flag => "flag",
        }
    }
}

/// Environment variables that are not settings: the configuration file's path and the test
/// suite's service addresses.
fn not_a_setting(path: &str) -> bool {
    path == "CONFIG" || path.starts_with("TEST_")
}

/// The environment variable of a dotted key.
pub fn env_name(key: &str) -> String {
    format!("SWITCHBOARD_{}", key.replace('.', "__").to_ascii_uppercase())
}

/// The valid key nearest to `given` among `candidates`, if one is near enough to be a typo.
fn nearest<'a>(given: &str, candidates: impl Iterator<Item = &'a String>) -> Option<&'a String> {
    candidates
        .map(|c| (strsim::levenshtein(given, c), c))
        .filter(|(d, _)| *d <= (given.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Every key of `given` that the configuration (`schema`, the defaults) lacks, as a dotted
/// path with the nearest valid path. Tables that are empty by default (maps such as
/// `service.minimum_client_versions`) take any key.
fn unknown_keys(schema: &toml::Table, given: &toml::Table, prefix: &str, out: &mut Vec<(String, Option<String>)>) {
    for (k, v) in given {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match schema.get(k) {
            None => {
                let near = nearest(k, schema.keys())
                    .map(|n| if prefix.is_empty() { n.clone() } else { format!("{prefix}.{n}") });
                out.push((path, near));
            }
            Some(toml::Value::Table(s)) if !s.is_empty() => {
                if let toml::Value::Table(g) = v {
                    unknown_keys(s, g, &path, out);
                }
            }
            Some(_) => {}
        }
    }
}

/// Records `source` for every leaf of `given`.
fn record_sources(given: &toml::Table, prefix: &str, source: Source, out: &mut BTreeMap<String, Source>) {
    for (k, v) in given {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            toml::Value::Table(t) if !t.is_empty() => record_sources(t, &path, source, out),
            _ => {
                out.insert(path, source);
            }
        }
    }
}

fn env_layer(vars: impl Iterator<Item = (String, String)>) -> toml::Value {
    let mut root = toml::Table::new();
    for (key, value) in vars {
        let Some(path) = key.strip_prefix("SWITCHBOARD_") else {
            continue;
        };
        if not_a_setting(path) {
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
        Self::load_with_sources(file, env).map(|(c, _)| c)
    }

    /// As [`Config::load_from`], also saying where each value set came from (keys not in
    /// the map are defaults).
    pub fn load_with_sources(
        file: Option<&Path>,
        env: impl Iterator<Item = (String, String)>,
    ) -> anyhow::Result<(Self, BTreeMap<String, Source>)> {
        let defaults = toml::Value::try_from(Config::default()).context("serialize defaults")?;
        let toml::Value::Table(schema) = &defaults else { anyhow::bail!("the defaults are not a table") };
        let mut value = defaults.clone();
        let mut sources = BTreeMap::new();
        let mut unknown = Vec::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).with_context(|| format!("read config file {}", path.display()))?;
            let table: toml::Table = text.parse().with_context(|| format!("parse config file {}", path.display()))?;
            let mut found = Vec::new();
            unknown_keys(schema, &table, "", &mut found);
            unknown.extend(found.into_iter().map(|(k, near)| match near {
                Some(n) => format!("unknown setting `{k}` in {} (did you mean `{n}`?)", path.display()),
                None => format!("unknown setting `{k}` in {}", path.display()),
            }));
            record_sources(&table, "", Source::File, &mut sources);
            merge(&mut value, toml::Value::Table(table));
        }
        let env = env_layer(env);
        if let toml::Value::Table(t) = &env {
            let mut found = Vec::new();
            unknown_keys(schema, t, "", &mut found);
            unknown.extend(found.into_iter().map(|(k, near)| match near {
                Some(n) => format!("unknown environment variable {} (did you mean {}?)", env_name(&k), env_name(&n)),
                None => format!("unknown environment variable {}", env_name(&k)),
            }));
            record_sources(t, "", Source::Environment, &mut sources);
        }
        if !unknown.is_empty() {
            anyhow::bail!("{}", unknown.join("; "));
        }
        merge(&mut value, env);
        let config: Config = value.try_into().context("invalid configuration")?;
        config.validate()?;
        Ok((config, sources))
    }

    /// Refuses values out of range, naming the setting.
    pub fn validate(&self) -> anyhow::Result<()> {
        let mut bad = Vec::new();
        let mut need = |ok: bool, key: &str, what: &str| {
            if !ok {
                bad.push(format!("`{key}` {what}"));
            }
        };
        let port = self.listen.rsplit_once(':').filter(|(h, _)| !h.is_empty()).map(|(_, p)| p.parse::<u16>());
        need(matches!(port, Some(Ok(_))), "listen", "must be a host and port such as 0.0.0.0:8080");
        need(
            self.store == "sqlite" || self.store.starts_with("postgres://") || self.store.starts_with("postgresql://"),
            "store",
            "must be `sqlite` or a postgres:// URL",
        );
        need(
            self.bus == "local" || self.bus.starts_with("nats://") || self.bus.starts_with("tls://"),
            "bus",
            "must be `local` or a nats:// (or tls://) URL",
        );
        need(
            self.tls.cert_file.as_os_str().is_empty() == self.tls.key_file.as_os_str().is_empty(),
            "tls.cert_file",
            "and `tls.key_file` must be set together",
        );
        need(self.sqlite.max_batch >= 1, "sqlite.max_batch", "must be at least 1");
        need(self.sqlite.readers >= 1, "sqlite.readers", "must be at least 1");
        need(self.postgres.pool_size >= 1, "postgres.pool_size", "must be at least 1");
        need(
            !self.nats.prefix.is_empty() && !self.nats.prefix.contains(['.', '*', '>', ' ']),
            "nats.prefix",
            "must be one NATS subject token (no dots, wildcards or spaces)",
        );
        let t = &self.transport;
        need(t.max_frame_bytes >= 1024, "transport.max_frame_bytes", "must be at least 1024");
        need(t.ping_interval_secs >= 1, "transport.ping_interval_secs", "must be at least 1");
        need(
            t.idle_timeout_secs > t.ping_interval_secs,
            "transport.idle_timeout_secs",
            "must be longer than transport.ping_interval_secs",
        );
        need(t.max_inflight_per_connection >= 1, "transport.max_inflight_per_connection", "must be at least 1");
        need(t.write_timeout_secs >= 1, "transport.write_timeout_secs", "must be at least 1");
        let metrics_port =
            t.metrics_listen.rsplit_once(':').filter(|(h, _)| !h.is_empty()).map(|(_, p)| p.parse::<u16>());
        need(
            t.metrics_listen.is_empty() || matches!(metrics_port, Some(Ok(_))),
            "transport.metrics_listen",
            "must be empty or a host and port such as 127.0.0.1:9090",
        );
        let f = &self.files;
        need(f.storage == "data-dir" || f.storage == "s3", "files.storage", "must be `data-dir` or `s3`");
        if f.storage == "s3" {
            need(
                f.s3.endpoint.starts_with("http://") || f.s3.endpoint.starts_with("https://"),
                "files.s3.endpoint",
                "must be an http:// or https:// URL",
            );
            need(!f.s3.bucket.is_empty(), "files.s3.bucket", "must name a bucket");
        }
        let s = &self.service;
        need(s.files.processing_workers >= 1, "service.files.processing_workers", "must be at least 1");
        need(s.files.download_url_ttl_secs >= 1, "service.files.download_url_ttl_secs", "must be at least 1");
        need(s.max_message_chars >= 1, "service.max_message_chars", "must be at least 1");
        need(s.max_members >= 2, "service.max_members", "must be at least 2");
        need(s.access_token_ttl_secs >= 60, "service.access_token_ttl_secs", "must be at least 60");
        need(s.connection_queue >= 16, "service.connection_queue", "must be at least 16");
        need(s.counter_cap >= 1, "service.counter_cap", "must be at least 1");
        need(s.max_catchup_events >= 1, "service.max_catchup_events", "must be at least 1");
        need(s.max_user_settings >= 1, "service.max_user_settings", "must be at least 1");
        for (key, l) in [
            ("service.rate_limit", s.rate_limit),
            ("service.auth_limits.per_address", s.auth_limits.per_address),
            ("service.auth_limits.failed_logins_per_account", s.auth_limits.failed_logins_per_account),
        ] {
            need(
                l.per_second.is_finite() && l.per_second >= 0.0 && (l.per_second == 0.0 || l.burst >= 1.0),
                key,
                "needs per_second 0 (off) or positive, and burst at least 1 when on",
            );
        }
        need(
            s.argon2.memory_kib >= 8 * s.argon2.parallelism.max(1),
            "service.argon2.memory_kib",
            "must be at least 8 x parallelism",
        );
        need(
            s.argon2.iterations >= 1 && s.argon2.parallelism >= 1,
            "service.argon2",
            "iterations and parallelism must be at least 1",
        );
        if bad.is_empty() { Ok(()) } else { anyhow::bail!("invalid configuration: {}", bad.join("; ")) }
    }

    /// The SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("switchboard.db")
    }
}

/// Replaces the password of a URL (`postgres://user:secret@host` -> `user:***@host`).
pub(crate) fn redact(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once("://") else { return value.to_owned() };
    let Some((auth, host)) = rest.rsplit_once('@') else { return value.to_owned() };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => value.to_owned(),
    }
}

/// Every leaf of `t` as (dotted key, value), in order.
fn leaves(t: &toml::Table, prefix: &str, out: &mut Vec<(String, toml::Value)>) {
    for (k, v) in t {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            toml::Value::Table(inner) if !inner.is_empty() => leaves(inner, &path, out),
            other => out.push((path, other.clone())),
        }
    }
}

/// The effective configuration, one `key = value  # source` line per setting, with URL
/// passwords redacted (`config show`).
pub fn show(config: &Config, sources: &BTreeMap<String, Source>) -> anyhow::Result<String> {
    let toml::Value::Table(t) = toml::Value::try_from(config).context("serialize the configuration")? else {
        anyhow::bail!("the configuration is not a table")
    };
    let mut all = Vec::new();
    leaves(&t, "", &mut all);
    let mut out = String::new();
    for (key, value) in all {
        let source = sources.get(&key).copied().unwrap_or(Source::Default);
        let value = match value {
            toml::Value::String(s)
                if (key.ends_with("_token") || key.ends_with("secret_access_key")) && !s.is_empty() =>
            {
                toml::Value::String("***".into())
            }
            toml::Value::String(s) => toml::Value::String(redact(&s)),
            v => v,
        };
        out.push_str(&format!("{key} = {value}  # {}\n", source.as_str()));
    }
    Ok(out)
}

/// The reference of every setting as Markdown (docs/CONFIGURATION.md is this output).
pub fn reference() -> anyhow::Result<String> {
    let toml::Value::Table(t) = toml::Value::try_from(Config::default()).context("serialize defaults")? else {
        anyhow::bail!("the defaults are not a table")
    };
    let mut all = Vec::new();
    leaves(&t, "", &mut all);
    let mut out = String::from(
        "# Configuration reference\n\n\
         Generated by `switchboard config reference` (a test keeps it in step with the code).\n\
         Every setting, its default and its environment variable; the README's configuration\n\
         section says what each one does. A file or variable naming a setting not listed here\n\
         is refused at start-up, with the nearest valid name.\n\n\
         | setting | default | environment variable |\n|---|---|---|\n",
    );
    for (key, value) in all {
        let shown = value.to_string().replace('|', "\\|");
        out.push_str(&format!("| `{key}` | `{shown}` | `{}` |\n", env_name(&key)));
    }
    Ok(out)
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
    fn unknown_keys_are_refused_with_the_nearest_valid_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "lisen = \"127.0.0.1:1\"\n[service]\nregistraton = \"closed\"\n[nope]\nx = 1\n").unwrap();
        let err = format!("{:#}", Config::load_from(Some(&path), env(&[])).unwrap_err());
        assert!(err.contains("unknown setting `lisen`") && err.contains("did you mean `listen`?"), "{err}");
        assert!(err.contains("`service.registraton`") && err.contains("`service.registration`"), "{err}");
        assert!(err.contains("unknown setting `nope`"), "{err}");
        let err =
            format!("{:#}", Config::load_from(None, env(&[("SWITCHBOARD_SERVICE__MAX_MEMBRES", "3")])).unwrap_err());
        assert!(
            err.contains("SWITCHBOARD_SERVICE__MAX_MEMBRES (did you mean SWITCHBOARD_SERVICE__MAX_MEMBERS?)"),
            "{err}"
        );
        // Maps take any key; the file's path and the test suite's variables are not settings.
        let ok = env(&[
            ("SWITCHBOARD_SERVICE__MINIMUM_CLIENT_VERSIONS__WEB", "\"1.0.0\""),
            ("SWITCHBOARD_CONFIG", "/nowhere"),
            ("SWITCHBOARD_TEST_POSTGRES_URL", "x"),
        ]);
        let c = Config::load_from(None, ok).unwrap();
        assert_eq!(c.service.minimum_client_versions.get("web").map(String::as_str), Some("1.0.0"));
    }

    #[test]
    fn values_out_of_range_are_refused_not_clamped() {
        for (var, value, named) in [
            ("SWITCHBOARD_SERVICE__CONNECTION_QUEUE", "4", "service.connection_queue"),
            ("SWITCHBOARD_LISTEN", "8080", "listen"),
            ("SWITCHBOARD_STORE", "mysql://x", "store"),
            ("SWITCHBOARD_TRANSPORT__IDLE_TIMEOUT_SECS", "5", "transport.idle_timeout_secs"),
            ("SWITCHBOARD_SERVICE__RATE_LIMIT__PER_SECOND", "-1", "service.rate_limit"),
        ] {
            let err = format!("{:#}", Config::load_from(None, env(&[(var, value)])).unwrap_err());
            assert!(err.contains(&format!("`{named}`")), "{var}={value}: {err}");
        }
        assert!(Config::load_from(None, env(&[("SWITCHBOARD_LISTEN", "localhost:9000")])).is_ok());
    }

    #[test]
    fn show_says_where_each_value_came_from_and_hides_passwords() {
        let vars = env(&[("SWITCHBOARD_STORE", "postgres://app:hunter2@db:5432/chat")]);
        let (c, sources) = Config::load_with_sources(None, vars).unwrap();
        let text = show(&c, &sources).unwrap();
        assert!(text.contains("store = \"postgres://app:***@db:5432/chat\"  # environment"), "{text}");
        assert!(text.contains("listen = \"0.0.0.0:8080\"  # default"), "{text}");
        assert!(!text.contains("hunter2"));
    }

    #[test]
    fn the_configuration_reference_in_the_docs_is_up_to_date() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/CONFIGURATION.md");
        let generated = reference().unwrap();
        if std::env::var_os("SWITCHBOARD_WRITE_REFERENCE").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let written = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            written == generated,
            "docs/CONFIGURATION.md is out of date: run `switchboard config reference > docs/CONFIGURATION.md`"
        );
    }

    #[test]
    fn a_bad_value_is_an_error_that_names_it() {
        let err = Config::load_from(None, env(&[("SWITCHBOARD_SERVICE__MAX_MESSAGE_CHARS", "lots")])).unwrap_err();
        assert!(format!("{err:#}").contains("max_message_chars"), "{err:#}");
    }
}
