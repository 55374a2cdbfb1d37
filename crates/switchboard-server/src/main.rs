//! The `switchboard` binary.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = switchboard_server::cli::Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(switchboard_server::cli::run(cli))
}
