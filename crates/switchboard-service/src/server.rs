//! Server discovery (what a client learns before signing in) and the runtime settings an
//! administrator changes without a restart.
//!
//! Runtime settings are overrides of configured values, kept in one server-wide record so
//! that they outlive restarts and reach every node: the node that takes a change applies
//! it at once, the others when they next re-read the record
//! (`service.settings_reload_secs`).

use std::sync::{Arc, Weak};

use switchboard_core::ConversationId;
use switchboard_format::{Stored, v1};
use switchboard_store::Expect;

use crate::config::{RateLimit, RegistrationMode};
use crate::{Inner, Principal, ServiceError, ServiceResult, Services};

/// The records' scope for server-wide records (no conversation has id 0).
const SERVER_SCOPE: ConversationId = ConversationId::from_raw(0);
/// The record kind of the runtime settings.
const RUNTIME_SETTINGS: &str = "runtime_settings";
/// Compare-and-set attempts when two administrators change settings at once.
const CAS_ATTEMPTS: usize = 8;
/// Largest rate or burst accepted.
const MAX_RATE: f64 = 1_000_000.0;

/// What this server offers, by name; docs/API.md lists them.
pub const FEATURES: &[&str] = &[
    "spaces",
    "threads",
    "invites",
    "presence",
    "typing",
    "receipts",
    "files",
    "tus",
    "grpc",
    "connect",
    "websocket",
    "reactions",
    "pins",
    "search",
    "scheduled_messages",
    "saved_messages",
    "link_previews",
    "stickers",
    "custom_emoji",
    "contacts",
    "friend_requests",
    "blocks",
    "privacy_settings",
];

/// The verdict on a client's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientSupport {
    /// No client named, no rule for it, or an unparsable version.
    Unknown,
    /// Supported and current.
    Supported,
    /// Supported but older than recommended.
    UpgradeRecommended,
    /// Older than the minimum.
    Unsupported,
}

/// What GetServerInfo answers.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    /// Server version.
    pub version: &'static str,
    /// Registration mode.
    pub registration: RegistrationMode,
    /// Sign-in methods.
    pub sign_in_methods: Vec<&'static str>,
    /// Runtime settings in force (the rate limits).
    pub settings: RuntimeSettings,
    /// Features.
    pub features: &'static [&'static str],
    /// The verdict on the named client.
    pub client_support: ClientSupport,
    /// The named client's minimum version, if a rule exists.
    pub minimum_client_version: Option<String>,
    /// The named client's recommended version, if a rule exists.
    pub recommended_client_version: Option<String>,
}

/// The settings an administrator may change at run time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuntimeSettings {
    /// Per-user request limit.
    pub rate_limit: RateLimit,
    /// Register, Login and Refresh per client address.
    pub auth_per_address: RateLimit,
    /// Failed logins per account.
    pub failed_logins_per_account: RateLimit,
}

/// A change of runtime settings; `None` keeps a value.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuntimePatch {
    /// New per-user request limit.
    pub rate_limit: Option<RateLimit>,
    /// New limit per client address.
    pub auth_per_address: Option<RateLimit>,
    /// New failed-login limit per account.
    pub failed_logins_per_account: Option<RateLimit>,
    /// Drop every stored override first.
    pub reset: bool,
}

/// The stored overrides.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Overrides(pub(crate) v1::RuntimeSettings);

impl Stored for Overrides {
    const WHAT: &'static str = "runtime settings";
    type V1 = v1::RuntimeSettings;

    fn to_v1(&self) -> v1::RuntimeSettings {
        self.0.clone()
    }

    fn from_v1(v: v1::RuntimeSettings) -> Self {
        Self(v)
    }
}

fn to_v1(l: RateLimit) -> v1::RateLimit {
    v1::RateLimit { per_second: l.per_second, burst: l.burst }
}

fn from_v1(l: v1::RateLimit) -> RateLimit {
    RateLimit { per_second: l.per_second, burst: l.burst }
}

/// Refuses a limit outside the documented range.
fn check_limit(field: &'static str, l: RateLimit) -> ServiceResult<RateLimit> {
    let ok = l.per_second.is_finite()
        && l.burst.is_finite()
        && (0.0..=MAX_RATE).contains(&l.per_second)
        && (l.per_second == 0.0 || (1.0..=MAX_RATE).contains(&l.burst));
    if ok {
        Ok(l)
    } else {
        Err(ServiceError::invalid(
            field,
            "per_second must be 0 (no limit) or positive up to 1000000, and burst 1-1000000 when the limit is on",
        ))
    }
}

/// Parses `name/version`.
fn client_parts(client: &str) -> Option<(&str, semver::Version)> {
    let (name, version) = client.trim().rsplit_once('/')?;
    Some((name, semver::Version::parse(version.trim()).ok()?))
}

/// Parses the configured client versions, naming the first bad one.
pub(crate) fn check_client_rules(config: &crate::ServiceConfig) -> ServiceResult<()> {
    for (setting, rules) in [
        ("minimum_client_versions", &config.minimum_client_versions),
        ("recommended_client_versions", &config.recommended_client_versions),
    ] {
        for (name, version) in rules {
            semver::Version::parse(version).map_err(|e| {
                ServiceError::invalid(
                    setting,
                    format!("service.{setting}: {name} = {version:?} is not a semantic version: {e}"),
                )
            })?;
        }
    }
    Ok(())
}

impl Services {
    /// What the server is and allows, and the verdict on `client` (`name/version`, may be
    /// empty). Needs no caller.
    pub fn server_info(&self, client: &str) -> ServerInfo {
        let config = self.config();
        let parsed = client_parts(client);
        let name = parsed.as_ref().map(|(n, _)| *n).or_else(|| client.trim().rsplit_once('/').map(|(n, _)| n));
        let rule = |rules: &std::collections::BTreeMap<String, String>| {
            name.and_then(|n| rules.get(n)).and_then(|v| semver::Version::parse(v).ok())
        };
        let (minimum, recommended) = (rule(&config.minimum_client_versions), rule(&config.recommended_client_versions));
        let client_support = match (&parsed, &minimum, &recommended) {
            (None, _, _) | (Some(_), None, None) => ClientSupport::Unknown,
            (Some((_, v)), min, rec) => {
                if min.as_ref().is_some_and(|m| v < m) {
                    ClientSupport::Unsupported
                } else if rec.as_ref().is_some_and(|r| v < r) {
                    ClientSupport::UpgradeRecommended
                } else {
                    ClientSupport::Supported
                }
            }
        };
        ServerInfo {
            version: env!("CARGO_PKG_VERSION"),
            registration: config.registration,
            sign_in_methods: vec!["password"],
            settings: self.effective_settings(),
            features: FEATURES,
            client_support,
            minimum_client_version: minimum.map(|v| v.to_string()),
            recommended_client_version: recommended.map(|v| v.to_string()),
        }
    }

    /// The runtime settings in force on this node.
    pub(crate) fn effective_settings(&self) -> RuntimeSettings {
        RuntimeSettings {
            rate_limit: self.inner.limiter.limit(),
            auth_per_address: self.inner.address_limiter.limit(),
            failed_logins_per_account: self.inner.failed_logins.limit(),
        }
    }

    /// The runtime settings as configured at start-up.
    pub(crate) fn configured_settings(&self) -> RuntimeSettings {
        let c = self.config();
        RuntimeSettings {
            rate_limit: c.rate_limit,
            auth_per_address: c.auth_limits.per_address,
            failed_logins_per_account: c.auth_limits.failed_logins_per_account,
        }
    }

    /// The runtime settings, in force and as configured (a server administrator).
    pub async fn runtime_settings(&self, p: &Principal) -> ServiceResult<(RuntimeSettings, RuntimeSettings)> {
        Self::require_admin(p)?;
        self.reload_settings().await?;
        Ok((self.effective_settings(), self.configured_settings()))
    }

    /// Changes the runtime settings (a server administrator); stored, then applied here.
    pub async fn update_runtime_settings(&self, p: &Principal, patch: RuntimePatch) -> ServiceResult<RuntimeSettings> {
        Self::require_admin(p)?;
        let check = |field, l: Option<RateLimit>| l.map(|l| check_limit(field, l).map(to_v1)).transpose();
        let rate_limit = check("rate_limit", patch.rate_limit)?;
        let auth_per_address = check("auth_per_address", patch.auth_per_address)?;
        let failed = check("failed_logins_per_account", patch.failed_logins_per_account)?;
        for _ in 0..CAS_ATTEMPTS {
            let current = self.store().record(SERVER_SCOPE, RUNTIME_SETTINGS, "").await?;
            let (mut overrides, expect) = match &current {
                Some(r) => (crate::spaces::parse::<Overrides>(r)?, Expect::Version(r.version)),
                None => (Overrides::default(), Expect::Absent),
            };
            if patch.reset {
                overrides = Overrides::default();
            }
            let o = &mut overrides.0;
            o.rate_limit = rate_limit.or(o.rate_limit);
            o.auth_per_address = auth_per_address.or(o.auth_per_address);
            o.failed_logins_per_account = failed.or(o.failed_logins_per_account);
            let body = switchboard_format::encode(&overrides);
            match self.store().put_record(SERVER_SCOPE, RUNTIME_SETTINGS, "", body, expect).await {
                Ok(version) => {
                    tracing::info!(admin = %p.user_id, settings = ?overrides.0, "runtime settings changed");
                    self.apply_overrides(&overrides, version);
                    return Ok(self.effective_settings());
                }
                Err(switchboard_store::StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(switchboard_store::StoreError::Conflict("the runtime settings").into())
    }

    /// Applies the overrides of record version `version`, unless a newer one was applied
    /// already (a reload that read the record just before a change was stored).
    fn apply_overrides(&self, o: &Overrides, version: u64) {
        use std::sync::atomic::Ordering;
        if self.inner.settings_version.fetch_max(version, Ordering::AcqRel) > version {
            return;
        }
        let configured = self.configured_settings();
        let pick = |o: Option<v1::RateLimit>, c: RateLimit| o.map_or(c, from_v1);
        self.inner.limiter.set_limit(pick(o.0.rate_limit, configured.rate_limit));
        self.inner.address_limiter.set_limit(pick(o.0.auth_per_address, configured.auth_per_address));
        self.inner.failed_logins.set_limit(pick(o.0.failed_logins_per_account, configured.failed_logins_per_account));
    }

    /// Reads the stored overrides and applies them.
    async fn reload_settings(&self) -> ServiceResult<()> {
        let (overrides, version) = match self.store().record(SERVER_SCOPE, RUNTIME_SETTINGS, "").await? {
            Some(r) => (crate::spaces::parse::<Overrides>(&r)?, r.version),
            None => (Overrides::default(), 0),
        };
        self.apply_overrides(&overrides, version);
        Ok(())
    }

    /// Applies the stored runtime settings now and then every `settings_reload_secs`;
    /// stops when the services are dropped.
    pub(crate) fn start_settings_reload(inner: &Arc<Inner>) {
        let weak: Weak<Inner> = Arc::downgrade(inner);
        let every = inner.config.settings_reload_secs;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(every.max(1)));
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let services = Services { inner };
                if let Err(e) = services.reload_settings().await {
                    tracing::warn!(error = %e, "cannot read the runtime settings; keeping the ones in force");
                }
                if every == 0 {
                    return;
                }
            }
        });
    }
}
