//! Switchboard's benchmark scenarios. Each drives a running server through the real client
//! protocol and returns a [`report::ScenarioResult`]; [`report::Report`] records the machine,
//! the commit and the parameters, and renders JSON and Markdown.

pub mod report;
pub mod scenarios;
pub mod setup;
pub mod stats;

/// The server under test.
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port`.
    pub addr: String,
    /// The server's process id, when the bench can read its memory (`/proc/<pid>/status`).
    pub server_pid: Option<u32>,
}

impl Target {
    /// The server's resident memory in bytes, if readable.
    pub fn server_rss(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.server_pid?)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }
}
