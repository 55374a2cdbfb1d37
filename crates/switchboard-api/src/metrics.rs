//! The Prometheus recorder, installed once per process.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
/// The process's own figures (CPU, memory, file descriptors, threads), read at each scrape
/// under the standard `process_*` names.
static PROCESS: OnceLock<metrics_process::Collector> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
/// Buckets of the histograms that count things (jobs per commit): every histogram is one,
/// never a summary, so that nodes' figures add up.
const COUNT_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0];

/// The process's Prometheus handle; installs the recorder on first use.
pub fn prometheus() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(COUNT_BUCKETS)
                .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS))
                .map(PrometheusBuilder::build_recorder)
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics may be empty");
            }
            describe();
            PROCESS.get_or_init(metrics_process::Collector::default).describe();
            metrics::gauge!("switchboard_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            handle
        })
        .clone()
}

/// The exposition text: the process's figures are read first.
pub fn render(handle: &PrometheusHandle) -> String {
    if let Some(p) = PROCESS.get() {
        p.collect();
    }
    handle.render()
}

fn describe() {
    metrics::describe_counter!("switchboard_requests_total", "Unary requests by method and result code.");
    metrics::describe_histogram!("switchboard_request_duration_seconds", "Unary request latency by method.");
    metrics::describe_gauge!("switchboard_connections", "Live connections (WebSocket and gRPC streams).");
    metrics::describe_counter!("switchboard_ws_connections_total", "WebSocket connections accepted.");
    metrics::describe_counter!("switchboard_messages_sent_total", "Messages stored.");
    metrics::describe_counter!("switchboard_reactions_total", "Reactions added or taken back.");
    metrics::describe_counter!("switchboard_online_messages_total", "Online-only messages published (never stored).");
    metrics::describe_counter!(
        "switchboard_link_previews_total",
        "Link preview fetches by outcome: fetched, cached, queue_full, or why one failed (refused, invalid, unreachable, status, not_html, redirects, too_large, timeout)."
    );
    metrics::describe_histogram!(
        "switchboard_search_duration_seconds",
        "Time of the store's part of a message search."
    );
    metrics::describe_counter!(
        "switchboard_uploads_started_total",
        "Uploads created (tus, one-request, CreateUpload)."
    );
    metrics::describe_counter!("switchboard_files_stored_total", "Uploads completed into files.");
    metrics::describe_counter!("switchboard_file_bytes_stored_total", "Bytes of the files stored.");
    metrics::describe_counter!("switchboard_file_downloads_total", "File and preview downloads served.");
    metrics::describe_histogram!(
        "switchboard_file_processing_seconds",
        "Time to make a file's previews and media facts, once a worker took it."
    );
    metrics::describe_counter!("switchboard_conversation_events_total", "Conversation events published.");
    metrics::describe_counter!("switchboard_fanout_deliveries_total", "Events queued to connections.");
    metrics::describe_counter!("switchboard_queue_drops_total", "Connections closed because their queue was full.");
    metrics::describe_counter!("switchboard_rate_limited_total", "Requests refused by the rate limiter.");
    metrics::describe_histogram!("switchboard_store_commit_jobs", "Write jobs per SQLite group commit.");
    metrics::describe_histogram!(
        "switchboard_store_commit_seconds",
        "Time of one SQLite group commit: its jobs, then COMMIT (with its fsync)."
    );
    metrics::describe_histogram!("switchboard_store_checkpoint_seconds", "Time of one background WAL checkpoint.");
    metrics::describe_gauge!("switchboard_store_wal_pages", "WAL pages after the latest background checkpoint.");
    metrics::describe_gauge!("switchboard_build_info", "Always 1; the version label says which build runs.");
    metrics::describe_counter!(
        "switchboard_auth_rate_limited_total",
        "Sign-ins refused by a limit (address or account)."
    );
    metrics::describe_counter!(
        "switchboard_bus_publish_errors_total",
        "Events the bus could not publish (readers recover from the store)."
    );
    metrics::describe_counter!(
        "switchboard_bus_unknown_format_total",
        "Bus messages in a format this node does not read."
    );
    metrics::describe_counter!(
        "switchboard_connections_refused_total",
        "Connections refused by the per-user or per-session cap."
    );
    metrics::describe_counter!("switchboard_failed_logins_total", "Logins with a wrong username or password.");
    metrics::describe_counter!("switchboard_password_checks_total", "Password hashes checked.");
    metrics::describe_counter!(
        "switchboard_password_hash_rejected_total",
        "Password checks refused because the hashing queue was full."
    );
    metrics::describe_counter!(
        "switchboard_refresh_token_reuse_total",
        "Rotated refresh tokens presented again (their sessions were ended)."
    );
    metrics::describe_gauge!("switchboard_bus_connected", "1 while the NATS connection is up, 0 while reconnecting.");
    metrics::describe_counter!("switchboard_bus_disconnects_total", "Times the NATS connection was lost.");
    metrics::describe_gauge!(
        "switchboard_store_pool_connections",
        "PostgreSQL pool connections by state (idle, in_use)."
    );
    metrics::describe_gauge!("switchboard_store_pool_max_connections", "Size limit of the PostgreSQL pool.");
    metrics::describe_gauge!("switchboard_store_pool_waiting", "Requests waiting for a PostgreSQL connection.");
    metrics::describe_counter!("switchboard_tls_reloads_total", "TLS certificate reloads that succeeded.");
    metrics::describe_counter!(
        "switchboard_tls_reload_failures_total",
        "TLS certificate reloads that failed (the certificate in use was kept)."
    );
    metrics::describe_counter!("switchboard_tls_handshake_failures_total", "TLS handshakes that failed or timed out.");
    metrics::describe_counter!(
        "switchboard_ws_write_timeouts_total",
        "WebSockets dropped because their writes blocked."
    );
}
