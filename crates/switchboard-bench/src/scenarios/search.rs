//! Search: SearchMessages latency over N messages spread over C conversations the searcher
//! belongs to. The texts are drawn from a vocabulary with Zipf-distributed word
//! frequencies (as in natural language: a few words everywhere, most rare), so a query's
//! cost depends on how common its words are; the one-word queries take words of middling
//! frequency (ranks 50-2,000: each in roughly 0.03-1% of messages), the three-word ones
//! common words (ranks 10-300). Filling the conversations doubles as a measurement of
//! persisted sends with the index.

use std::time::Instant;

use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use switchboard_client::proto as pb;
use switchboard_client::{Client, Transport};

use super::result;
use crate::report::ScenarioResult;
use crate::setup::{self, now_micros};
use crate::{Target, stats::Samples};

/// Parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Params {
    /// Messages in all.
    pub messages: usize,
    /// Conversations they are spread over (the searcher is in all of them).
    pub conversations: usize,
    /// Distinct words.
    pub vocabulary: usize,
    /// Words per message.
    pub words_per_message: usize,
    /// Queries of each kind.
    pub queries: usize,
    /// Parallel senders filling the conversations.
    pub fill_senders: usize,
}

impl Params {
    /// CI size.
    pub fn quick() -> Self {
        Self {
            messages: 3_000,
            conversations: 4,
            vocabulary: 2_000,
            words_per_message: 10,
            queries: 50,
            fill_senders: 8,
        }
    }

    /// The documented size.
    pub fn full() -> Self {
        Self {
            messages: 1_000_000,
            conversations: 50,
            vocabulary: 20_000,
            words_per_message: 10,
            queries: 2_000,
            fill_senders: 32,
        }
    }
}

#[derive(Serialize)]
struct Metrics {
    fill_msgs_per_sec: f64,
    one_word: crate::stats::Summary,
    one_word_newest: crate::stats::Summary,
    three_words: crate::stats::Summary,
    mean_hits_one_word: f64,
}

/// A deterministic pseudo-word for rank `i`: syllables spelled from its digits.
fn word(i: usize) -> String {
    const SYL: [&str; 16] =
        ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "do", "gi", "hu", "be", "fa", "jo"];
    let mut n = i + 16;
    let mut out = String::new();
    while n > 0 {
        out.push_str(SYL[n % 16]);
        n /= 16;
    }
    out
}

/// xorshift64: a cheap generator, seeded per task.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Cumulative Zipf weights (exponent 1) over `n` ranks, for sampling by bisection.
fn zipf(n: usize) -> Vec<f64> {
    let mut acc = 0.0;
    let mut out: Vec<f64> = (1..=n)
        .map(|r| {
            acc += 1.0 / r as f64;
            acc
        })
        .collect();
    for w in &mut out {
        *w /= acc;
    }
    out
}

/// A rank drawn from the cumulative weights.
fn draw(rng: &mut Rng, cdf: &[f64]) -> usize {
    let u = rng.unit();
    cdf.partition_point(|&c| c < u).min(cdf.len() - 1)
}

fn text(rng: &mut Rng, cdf: &[f64], words: usize) -> String {
    (0..words).map(|_| word(draw(rng, cdf))).collect::<Vec<_>>().join(" ")
}

async fn timed(c: &Client, query: String, order: pb::SearchOrder) -> anyhow::Result<(u64, usize)> {
    let t = Instant::now();
    let r: pb::SearchMessagesResponse = c
        .call(
            "SearchService/SearchMessages",
            &pb::SearchMessagesRequest { query, order: order as i32, limit: 20, ..Default::default() },
        )
        .await?;
    Ok((t.elapsed().as_micros() as u64, r.hits.len()))
}

/// Runs the scenario.
pub async fn run(target: &Target, p: &Params) -> anyhow::Result<ScenarioResult> {
    let started = Instant::now();
    let addr = target.addr.as_str();
    let users = setup::users(addr, &format!("se{}_", now_micros() % 1_000_000), 2, 2).await?;
    let mut convs = Vec::new();
    for _ in 0..p.conversations.max(1) {
        convs.push(setup::group(addr, &users[0], &users[1..]).await?);
    }
    let cdf = zipf(p.vocabulary.max(10));
    let fill_start = Instant::now();
    let per = p.messages.div_ceil(p.fill_senders.max(1));
    let fills: Vec<anyhow::Result<()>> = stream::iter(0..p.fill_senders.max(1))
        .map(|s| {
            let (token, convs, cdf) = (users[0].token.clone(), convs.clone(), cdf.clone());
            let count = per.min(p.messages.saturating_sub(s * per));
            let words = p.words_per_message;
            async move {
                let c = Client::connect(addr, Transport::WsBinary, Some(&token)).await?;
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (s as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D));
                for i in 0..count {
                    let _: pb::SendMessageResponse = c
                        .call(
                            "MessageService/SendMessage",
                            &pb::SendMessageRequest {
                                conversation_id: convs[(s + i) % convs.len()].clone(),
                                client_key: format!("se-{s}-{i}"),
                                text: Some(pb::TextContent { text: text(&mut rng, &cdf, words), ..Default::default() }),
                                ..Default::default()
                            },
                        )
                        .await?;
                }
                Ok(())
            }
        })
        .buffer_unordered(p.fill_senders.max(1))
        .collect()
        .await;
    fills.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let fill_rate = p.messages as f64 / fill_start.elapsed().as_secs_f64();

    let c = Client::connect(addr, Transport::Grpc, Some(&users[1].token)).await?;
    let mut rng = Rng(now_micros() | 1);
    let vocab = cdf.len();
    let pick = |rng: &mut Rng, lo: usize, hi: usize| {
        word(lo.min(vocab - 1) + rng.next() as usize % (hi.min(vocab) - lo.min(vocab - 1)).max(1))
    };
    let (mut one, mut newest, mut three) = (Samples::default(), Samples::default(), Samples::default());
    let mut hits = 0usize;
    for _ in 0..p.queries {
        let (t, n) = timed(&c, pick(&mut rng, 50, 2_000), pb::SearchOrder::Relevance).await?;
        one.push(t);
        hits += n;
        newest.push(timed(&c, pick(&mut rng, 50, 2_000), pb::SearchOrder::Newest).await?.0);
        let q = format!("{} {} {}", pick(&mut rng, 10, 300), pick(&mut rng, 10, 300), pick(&mut rng, 10, 300));
        three.push(timed(&c, q, pb::SearchOrder::Relevance).await?.0);
    }
    let metrics = Metrics {
        fill_msgs_per_sec: fill_rate,
        one_word: one.summary(),
        one_word_newest: newest.summary(),
        three_words: three.summary(),
        mean_hits_one_word: hits as f64 / p.queries.max(1) as f64,
    };
    Ok(result("search", p, &metrics, started))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_distinct_and_zipf_favours_the_first_ranks() {
        let words: std::collections::HashSet<String> = (0..5_000).map(word).collect();
        assert_eq!(words.len(), 5_000);
        let cdf = zipf(1_000);
        let mut rng = Rng(7);
        let top = (0..10_000).filter(|_| draw(&mut rng, &cdf) < 10).count();
        assert!((3_000..4_500).contains(&top), "{top}");
    }
}
