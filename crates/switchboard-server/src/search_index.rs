//! `switchboard search status|rebuild`: the message search index, for operators (embedded
//! or cluster, beside a running server).

use crate::config::Config;
use crate::progress::bar;

/// Messages indexed per transaction by `search rebuild`.
const REBUILD_STEP: u32 = 2_000;

/// `switchboard search status|rebuild`.
pub async fn run(cmd: crate::cli::SearchCommand, config: &Config) -> anyhow::Result<()> {
    let (store, _lock) = crate::serve::open_store(config).await?;
    let print = |s: &switchboard_store::SearchIndexStatus| {
        println!(
            "search index: indexed up to message {}, backlog {} (newest message {})",
            s.indexed_upto, s.backlog, s.newest
        );
    };
    match cmd {
        crate::cli::SearchCommand::Status => print(&store.search_status().await?),
        crate::cli::SearchCommand::Rebuild => {
            let first = store.reset_search_index().await?;
            let bar = bar(first.backlog, "messages");
            bar.set_message("indexing");
            let mut last = first;
            while last.backlog > 0 {
                last = store.index_step(REBUILD_STEP).await?;
                bar.set_position(first.backlog.saturating_sub(last.backlog));
            }
            bar.finish_and_clear();
            println!("rebuilt the search index: {} messages", first.backlog);
            print(&last);
        }
    }
    Ok(())
}
