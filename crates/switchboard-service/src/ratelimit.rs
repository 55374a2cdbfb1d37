//! Token buckets keyed by user, client address or account. The limits are per node;
//! docs/OPERATIONS.md says so for clusters.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::config::RateLimit;

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets keyed by `K`, under a limit that may change while they run.
pub(crate) struct RateLimiter<K> {
    state: Mutex<Buckets<K>>,
}

struct Buckets<K> {
    limit: RateLimit,
    map: HashMap<K, Bucket>,
}

/// Buckets kept before full ones are pruned.
const PRUNE_AT: usize = 100_000;

impl<K: std::hash::Hash + Eq> RateLimiter<K> {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Self { state: Mutex::new(Buckets { limit, map: HashMap::new() }) }
    }

    /// The limit in force.
    pub(crate) fn limit(&self) -> RateLimit {
        self.lock().limit
    }

    /// Replaces the limit; every key starts again from a full bucket of the new size.
    pub(crate) fn set_limit(&self, limit: RateLimit) {
        let mut state = self.lock();
        if state.limit != limit {
            state.limit = limit;
            state.map.clear();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buckets<K>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes one token for `key`; on refusal returns the milliseconds until one is free.
    pub(crate) fn check(&self, key: K) -> Result<(), u64> {
        self.take(key, true)
    }

    /// Whether `key` has a token, without taking it; the milliseconds to wait if not.
    pub(crate) fn peek(&self, key: K) -> Result<(), u64> {
        self.take(key, false)
    }

    fn take(&self, key: K, spend: bool) -> Result<(), u64> {
        let mut state = self.lock();
        let (rate, burst) = (state.limit.per_second, state.limit.burst);
        if rate <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let map = &mut state.map;
        if map.len() >= PRUNE_AT {
            map.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let b = map.entry(key).or_insert(Bucket { tokens: burst, at: now });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            if spend {
                b.tokens -= 1.0;
            }
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / rate * 1000.0).ceil() as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::UserId;

    #[test]
    fn a_burst_is_allowed_then_refused_with_a_retry_hint() {
        let rl = RateLimiter::new(RateLimit { per_second: 10.0, burst: 3.0 });
        let u = UserId::from_raw(1);
        for _ in 0..3 {
            assert!(rl.check(u).is_ok());
        }
        let wait = rl.check(u).unwrap_err();
        assert!((1..=100).contains(&wait), "{wait}");
        assert!(rl.check(UserId::from_raw(2)).is_ok(), "users have their own buckets");
    }

    #[test]
    fn peeking_takes_no_token() {
        let rl = RateLimiter::new(RateLimit { per_second: 1.0, burst: 1.0 });
        assert!(rl.peek("a").is_ok());
        assert!(rl.peek("a").is_ok());
        assert!(rl.check("a").is_ok());
        assert!(rl.peek("a").is_err());
    }

    #[test]
    fn a_zero_rate_disables_the_limit() {
        let rl = RateLimiter::<UserId>::new(RateLimit { per_second: 0.0, burst: 0.0 });
        for _ in 0..1000 {
            assert!(rl.check(UserId::from_raw(1)).is_ok());
        }
    }
}
