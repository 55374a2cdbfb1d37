//! Latency samples and their summary.

use serde::Serialize;

/// Latencies in microseconds.
#[derive(Debug, Default, Clone)]
pub struct Samples(Vec<u64>);

/// Percentiles of a sample set, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Samples.
    pub count: usize,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl Samples {
    /// Adds one latency.
    pub fn push(&mut self, micros: u64) {
        self.0.push(micros);
    }

    /// Adds many.
    pub fn extend(&mut self, other: Samples) {
        self.0.extend(other.0);
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Percentiles (nearest rank).
    pub fn summary(&mut self) -> Summary {
        self.0.sort_unstable();
        let at = |q: f64| -> f64 {
            if self.0.is_empty() {
                return 0.0;
            }
            let i = ((q * self.0.len() as f64).ceil() as usize).clamp(1, self.0.len()) - 1;
            self.0[i] as f64 / 1000.0
        };
        Summary { count: self.0.len(), p50_ms: at(0.50), p99_ms: at(0.99), p999_ms: at(0.999), max_ms: at(1.0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut s = Samples::default();
        for v in 1..=1000 {
            s.push(v * 1000);
        }
        let sum = s.summary();
        assert_eq!((sum.p50_ms, sum.p99_ms, sum.p999_ms, sum.max_ms), (500.0, 990.0, 999.0, 1000.0));
        assert_eq!(Samples::default().summary().count, 0);
    }
}
