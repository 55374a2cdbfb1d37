//! Per-user token buckets. The limit is per node; docs/OPERATIONS.md says so for clusters.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use switchboard_core::UserId;

use crate::config::RateLimit;

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets keyed by user.
pub(crate) struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<UserId, Bucket>>,
}

/// Buckets kept before full ones are pruned.
const PRUNE_AT: usize = 100_000;

impl RateLimiter {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Self { limit, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one token for `user`; on refusal returns the milliseconds until one is free.
    pub(crate) fn check(&self, user: UserId) -> Result<(), u64> {
        if self.limit.per_second <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= PRUNE_AT {
            let (rate, burst) = (self.limit.per_second, self.limit.burst);
            map.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let b = map.entry(user).or_insert(Bucket { tokens: self.limit.burst, at: now });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * self.limit.per_second).min(self.limit.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / self.limit.per_second * 1000.0).ceil() as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_zero_rate_disables_the_limit() {
        let rl = RateLimiter::new(RateLimit { per_second: 0.0, burst: 0.0 });
        for _ in 0..1000 {
            assert!(rl.check(UserId::from_raw(1)).is_ok());
        }
    }
}
