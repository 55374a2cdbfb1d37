//! A benchmark run's record: the machine, the commit, the parameters and the results, as
//! JSON and as a Markdown table.

use serde::Serialize;
use serde_json::Value;

/// The machine the run happened on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Logical cores.
    pub cores: usize,
    /// Total memory, from /proc/meminfo.
    pub memory_bytes: Option<u64>,
    /// Operating system and architecture.
    pub os: String,
}

impl Machine {
    /// Reads the current machine.
    pub fn current() -> Self {
        let memory_bytes = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("MemTotal:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kib| kib * 1024)
        });
        Self {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_bytes,
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
        }
    }
}

/// One scenario's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    /// Scenario name.
    pub name: String,
    /// Its parameters.
    pub params: Value,
    /// What it measured.
    pub metrics: Value,
    /// Wall time of the scenario, seconds.
    pub seconds: f64,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Unix time the run started.
    pub started_at_unix: u64,
    /// The commit measured.
    pub commit: String,
    /// The machine.
    pub machine: Machine,
    /// `quick` or `full`.
    pub size: String,
    /// What was measured.
    pub target: String,
    /// Results in run order.
    pub results: Vec<ScenarioResult>,
}

fn cell(v: &Value) -> String {
    match v {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                Value::Object(_) => format!("{k}: {}", cell(v)),
                Value::Number(n) => match n.as_f64() {
                    Some(f) if f.fract() != 0.0 => format!("{k}={f:.3}"),
                    _ => format!("{k}={n}"),
                },
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

impl Report {
    /// The report as a Markdown section.
    pub fn markdown(&self) -> String {
        let mem =
            self.machine.memory_bytes.map_or("?".into(), |b| format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64));
        let mut out = format!(
            "Commit `{}`, {} cores, {mem}, {} — size `{}`, target {}.\n\n| scenario | parameters | results | seconds |\n|---|---|---|---|\n",
            self.commit, self.machine.cores, self.machine.os, self.size, self.target
        );
        for r in &self.results {
            out.push_str(&format!("| {} | {} | {} | {:.1} |\n", r.name, cell(&r.params), cell(&r.metrics), r.seconds));
        }
        out
    }
}
