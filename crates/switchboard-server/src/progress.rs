//! Progress bars of the operator's commands.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` `unit`s, drawn on standard error when it is a terminal, hidden otherwise.
pub(crate) fn bar(len: u64, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    let template = format!("{{msg:>16}} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{eta}} left)");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
