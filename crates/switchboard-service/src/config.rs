//! The service's limits and policies, passed in as a value at start-up.

use serde::{Deserialize, Serialize};

/// Who may register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegistrationMode {
    /// Anyone.
    Open,
    /// Only with an invite code from an admin.
    InviteCode,
    /// Nobody (admins create accounts with the CLI).
    Closed,
}

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Argon2Params {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        // OWASP's recommended minimum for argon2id.
        Self { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 }
    }
}

/// A token bucket: `per_second` refill, up to `burst` tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimit {
    /// Sustained requests per second per user; 0 disables the limit.
    pub per_second: f64,
    /// Bucket size.
    pub burst: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self { per_second: 100.0, burst: 400.0 }
    }
}

/// The threads that hash and check passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordHashing {
    /// Hashing threads, each holding one argon2 buffer of `memory_kib`; 0 = one fewer
    /// than the CPUs (at least one), so that a flood of sign-ins leaves a core for messaging.
    pub workers: usize,
    /// Hashes waiting for a thread before more are refused with resource_exhausted.
    pub queue: usize,
}

impl PasswordHashing {
    /// The number of threads to start.
    pub fn workers(&self) -> usize {
        if self.workers > 0 {
            return self.workers;
        }
        std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
    }
}

impl Default for PasswordHashing {
    fn default() -> Self {
        Self { workers: 0, queue: 64 }
    }
}

/// Limits on the calls that need no token (Register, Login, Refresh).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthLimits {
    /// Register, Login and Refresh calls per client address (0 disables).
    pub per_address: RateLimit,
    /// Failed logins per account (0 disables); once spent, the account's logins are
    /// refused until the bucket refills, whatever the password.
    pub failed_logins_per_account: RateLimit,
}

impl Default for AuthLimits {
    fn default() -> Self {
        Self {
            per_address: RateLimit { per_second: 1.0, burst: 30.0 },
            failed_logins_per_account: RateLimit { per_second: 1.0 / 30.0, burst: 10.0 },
        }
    }
}

/// Files: sizes, quotas, types, processing and download links.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FilesConfig {
    /// Largest file in bytes; a declared size above it is refused before any byte is sent.
    pub max_file_bytes: u64,
    /// Bytes one user's files and unfinished uploads may take; 0 = no quota.
    pub quota_bytes: u64,
    /// An unfinished upload is given up (and its bytes collected) this long after it started.
    pub upload_expiry_secs: u64,
    /// Types accepted (sniffed from the bytes; `image/*` matches a family); empty = all.
    pub allowed_types: Vec<String>,
    /// Types refused, checked after `allowed_types`.
    pub denied_types: Vec<String>,
    /// Most pixels (width × height) an image may have; more is refused when the upload
    /// completes, from the header, before anything is decoded (decompression bombs).
    pub max_image_pixels: u64,
    /// Images, audio and video up to this many bytes are processed (previews, metadata
    /// removal, durations); larger ones are stored and served as they are.
    pub max_processed_bytes: u64,
    /// Files processed at once on this node.
    pub processing_workers: usize,
    /// Lifetime of a signed download URL, in seconds.
    pub download_url_ttl_secs: u64,
    /// Most attachments on one message.
    pub max_attachments: usize,
    /// How often expired uploads and unused blobs are collected, in seconds; 0 = never.
    pub collect_interval_secs: u64,
    /// An unused blob is collected only this long after its last use, in seconds.
    pub blob_grace_secs: u64,
}

impl Default for FilesConfig {
    fn default() -> Self {
        Self {
            max_file_bytes: 4 << 30,
            quota_bytes: 10 << 30,
            upload_expiry_secs: 24 * 3600,
            allowed_types: Vec::new(),
            denied_types: Vec::new(),
            max_image_pixels: 100_000_000,
            max_processed_bytes: 64 << 20,
            processing_workers: 2,
            download_url_ttl_secs: 900,
            max_attachments: 10,
            collect_interval_secs: 300,
            blob_grace_secs: 3600,
        }
    }
}

impl FilesConfig {
    /// True when files of the (sniffed) type `mime` are accepted.
    pub fn type_allowed(&self, mime: &str) -> bool {
        let matches = |pattern: &String| {
            let pattern = pattern.trim().to_ascii_lowercase();
            match pattern.strip_suffix("/*") {
                Some(family) => mime.split('/').next() == Some(family),
                None => pattern == mime || pattern == "*",
            }
        };
        (self.allowed_types.is_empty() || self.allowed_types.iter().any(matches))
            && !self.denied_types.iter().any(matches)
    }
}

/// Link previews: what is fetched, how much, how fast, and where it may go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LinkPreviewsConfig {
    /// Fetch previews at all.
    pub enabled: bool,
    /// Links of one message previewed (its first ones).
    pub max_per_message: usize,
    /// A whole fetch (page or image, every redirect) ends within this, in milliseconds.
    pub timeout_ms: u64,
    /// Bytes of a page read for its facts.
    pub max_page_bytes: usize,
    /// Largest image re-hosted; a larger one leaves the preview without an image.
    pub max_image_bytes: usize,
    /// Redirects followed.
    pub max_redirects: u32,
    /// Fetches at once on this node.
    pub workers: usize,
    /// Messages waiting for their previews on this node; beyond it a message gets none.
    pub queue: usize,
    /// How long a fetched preview (or a site's failure) is reused, in seconds.
    pub cache_ttl_secs: u64,
    /// Previews cached per site (host); the oldest make room.
    pub cache_per_domain: usize,
    /// Sites cached at once.
    pub cache_domains: usize,
    /// Hosts fetched from whatever address they have (`host` or `host:port`); everything
    /// else must be at a public address. Empty by default: nothing private is reachable.
    pub allow_hosts: Vec<String>,
    /// The User-Agent the fetches send.
    pub user_agent: String,
}

impl Default for LinkPreviewsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_per_message: 3,
            timeout_ms: 5_000,
            max_page_bytes: 512 << 10,
            max_image_bytes: 5 << 20,
            max_redirects: 3,
            workers: 4,
            queue: 1_000,
            cache_ttl_secs: 3_600,
            cache_per_domain: 100,
            cache_domains: 1_000,
            allow_hosts: Vec::new(),
            user_agent: "Switchboard-LinkPreview/1.0".into(),
        }
    }
}

/// Sticker packs and custom emoji.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExpressionsConfig {
    /// Sticker packs the server has (server-wide), and each space has.
    pub max_sticker_packs: u32,
    /// Stickers of one pack.
    pub max_stickers_per_pack: usize,
    /// Custom emoji of one space.
    pub max_custom_emoji_per_space: usize,
}

impl Default for ExpressionsConfig {
    fn default() -> Self {
        Self { max_sticker_packs: 50, max_stickers_per_pack: 120, max_custom_emoji_per_space: 200 }
    }
}

/// Limits and policies of the use cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceConfig {
    /// Who may register.
    pub registration: RegistrationMode,
    /// Password hashing cost.
    pub argon2: Argon2Params,
    /// Access-token lifetime in seconds.
    pub access_token_ttl_secs: u64,
    /// Longest message text, in characters.
    pub max_message_chars: usize,
    /// How long after sending a message may be edited, in seconds; 0 = forever.
    pub edit_window_secs: u64,
    /// Most members of a group or channel.
    pub max_members: u32,
    /// Conversations up to this size list who read a message and get live receipts.
    pub receipt_detail_max_members: u32,
    /// A typing start expires after this many milliseconds.
    pub typing_ttl_ms: u64,
    /// Per-user request rate limit.
    pub rate_limit: RateLimit,
    /// Limits on Register, Login and Refresh.
    pub auth_limits: AuthLimits,
    /// Password hashing threads and queue.
    pub password_hashing: PasswordHashing,
    /// Live connections (WebSockets and gRPC streams) one user may hold on one node.
    pub max_connections_per_user: usize,
    /// Live connections one session may hold on one node.
    pub max_connections_per_session: usize,
    /// More missed events than this in one log ends catch-up with "resync required".
    pub max_catchup_events: u64,
    /// Events queued for one connection before it counts as too slow and is closed.
    pub connection_queue: usize,
    /// Unread and mention counters stop counting at this value.
    pub counter_cap: u32,
    /// Most presence subscriptions per session.
    pub max_presence_subscriptions: usize,
    /// A space member card counts the member's messages among the latest this many of
    /// each channel (keeps the append path free of a per-sender index).
    pub member_card_window: u64,
    /// Platforms (as sessions name them: "ios", "android", ...) where a user keeps one
    /// session: a new sign-in there ends the older one (reason `replaced`).
    pub one_session_per_platform: Vec<String>,
    /// Most synced settings (keys) one user keeps.
    pub max_user_settings: u32,
    /// Longest value of one synced setting, in bytes.
    pub max_user_setting_bytes: usize,
    /// How often a node re-reads the runtime settings an administrator changed through
    /// the API (another node's change takes effect here within this); 0 = only at start.
    pub settings_reload_secs: u64,
    /// Per client name, the oldest version the server supports (semantic versioning,
    /// `{ "switchboard-web" = "1.2.0" }`); GetServerInfo tells older clients they are
    /// unsupported.
    pub minimum_client_versions: std::collections::BTreeMap<String, String>,
    /// Per client name, the version the server recommends; older ones are told to update.
    pub recommended_client_versions: std::collections::BTreeMap<String, String>,
    /// Files and uploads.
    pub files: FilesConfig,
    /// Most distinct emoji one message's reactions may use.
    pub max_reactions_per_message: u32,
    /// Most scheduled messages one user keeps waiting.
    pub max_scheduled_per_user: u32,
    /// How often each node looks for scheduled messages that are due, in milliseconds; 0:
    /// this node delivers none (another node must).
    pub scheduled_poll_ms: u64,
    /// Link previews.
    pub link_previews: LinkPreviewsConfig,
    /// Sticker packs and custom emoji.
    pub expressions: ExpressionsConfig,
    /// Most contacts one user keeps.
    pub max_contacts: u32,
    /// Most friend requests of one user waiting for an answer at once.
    pub max_pending_friend_requests: u32,
    /// Most people on one privacy setting's exception lists (allow and deny together).
    pub max_privacy_exceptions: u32,
    /// A direct chat with someone needs them to be a mutual contact first (a friend
    /// request accepted); notes to self excepted.
    pub direct_chats_need_friendship: bool,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            registration: RegistrationMode::Open,
            argon2: Argon2Params::default(),
            access_token_ttl_secs: 24 * 3600,
            max_message_chars: 4096,
            edit_window_secs: 48 * 3600,
            max_members: 200_000,
            receipt_detail_max_members: 100,
            typing_ttl_ms: 6_000,
            rate_limit: RateLimit::default(),
            auth_limits: AuthLimits::default(),
            password_hashing: PasswordHashing::default(),
            max_connections_per_user: 64,
            max_connections_per_session: 16,
            max_catchup_events: 100_000,
            connection_queue: 4096,
            counter_cap: 9_999,
            max_presence_subscriptions: 1_000,
            member_card_window: 10_000,
            one_session_per_platform: Vec::new(),
            max_user_settings: 100,
            max_user_setting_bytes: 4096,
            settings_reload_secs: 5,
            minimum_client_versions: Default::default(),
            recommended_client_versions: Default::default(),
            files: FilesConfig::default(),
            max_reactions_per_message: 20,
            max_scheduled_per_user: 100,
            scheduled_poll_ms: 1_000,
            link_previews: LinkPreviewsConfig::default(),
            expressions: ExpressionsConfig::default(),
            max_contacts: 5_000,
            max_pending_friend_requests: 100,
            max_privacy_exceptions: 1_000,
            direct_chats_need_friendship: false,
        }
    }
}
