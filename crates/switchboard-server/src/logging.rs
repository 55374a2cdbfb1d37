//! Log set-up: text or JSON lines on stderr, filtered by `RUST_LOG` or the configured level.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber; a second call is a no-op.
pub(crate) fn init(format: LogFormat, level: &str, access: bool) {
    // The access log (one line per request, target `switchboard_access`) is on only when
    // configured; `RUST_LOG` wins over both.
    let directives =
        if access { format!("{level},switchboard_access=info") } else { format!("{level},switchboard_access=off") };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(directives));
    use std::io::IsTerminal;
    // Colour codes only where a person reads them, not in files or log collectors.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
