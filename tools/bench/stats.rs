//! The arithmetic of a benchmark run, kept apart so it can be checked on known inputs:
//! latency percentiles, and per-sender duplicate and reorder detection.

/// Latency figures in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub count: usize,
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

/// The nearest-rank percentile of sorted samples: the smallest sample with at least `p`
/// percent of the samples at or below it. `None` for no samples.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Sorts the samples and summarizes them.
pub fn summarize(samples: &mut [u64]) -> Summary {
    samples.sort_unstable();
    Summary {
        count: samples.len(),
        p50: percentile(samples, 50.0).unwrap_or(0),
        p99: percentile(samples, 99.0).unwrap_or(0),
        max: samples.last().copied().unwrap_or(0),
    }
}

/// What one receiver got from every sender, where each sender numbers its messages
/// `0..per_sender`: counts duplicates, out-of-order arrivals and numbers out of range.
#[derive(Debug, Clone)]
pub struct Deliveries {
    per_sender: usize,
    /// One bit per (sender, number): seen yet?
    seen: Vec<u64>,
    /// Highest number seen per sender, to spot one arriving after a later one.
    highest: Vec<Option<usize>>,
    pub received: u64,
    pub duplicates: u64,
    pub reordered: u64,
    pub out_of_range: u64,
}

impl Deliveries {
    pub fn new(senders: usize, per_sender: usize) -> Deliveries {
        Deliveries {
            per_sender,
            seen: vec![0; (senders * per_sender).div_ceil(64)],
            highest: vec![None; senders],
            received: 0,
            duplicates: 0,
            reordered: 0,
            out_of_range: 0,
        }
    }

    /// Records that message `number` of `sender` arrived.
    pub fn record(&mut self, sender: usize, number: usize) {
        self.received += 1;
        if sender >= self.highest.len() || number >= self.per_sender {
            self.out_of_range += 1;
            return;
        }
        let bit = sender * self.per_sender + number;
        let (word, mask) = (bit / 64, 1u64 << (bit % 64));
        if self.seen[word] & mask != 0 {
            self.duplicates += 1;
            return;
        }
        self.seen[word] |= mask;
        match self.highest[sender] {
            Some(high) if number < high => self.reordered += 1,
            _ => self.highest[sender] = Some(number),
        }
    }

    /// Distinct messages received.
    pub fn distinct(&self) -> u64 {
        self.seen.iter().map(|w| u64::from(w.count_ones())).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let hundred: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 50.0), Some(50));
        assert_eq!(percentile(&hundred, 99.0), Some(99));
        assert_eq!(percentile(&hundred, 100.0), Some(100));
        assert_eq!(percentile(&hundred, 0.0), Some(1));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
        let mut few = vec![30, 10, 20, 40];
        assert_eq!(
            summarize(&mut few),
            Summary {
                count: 4,
                p50: 20,
                p99: 40,
                max: 40
            }
        );
        assert_eq!(summarize(&mut []), Summary::default());
    }

    #[test]
    fn in_order_delivery_is_clean() {
        let mut d = Deliveries::new(3, 100);
        for n in 0..100 {
            for s in 0..3 {
                d.record(s, n);
            }
        }
        assert_eq!((d.received, d.distinct()), (300, 300));
        assert_eq!((d.duplicates, d.reordered, d.out_of_range), (0, 0, 0));
    }

    #[test]
    fn duplicates_reorders_and_strays_are_counted() {
        let mut d = Deliveries::new(2, 10);
        for n in [0, 1, 3, 2, 3, 4] {
            d.record(0, n);
        }
        // Sender 1 interleaving is not a reorder: order only matters per sender.
        d.record(1, 5);
        d.record(1, 9);
        d.record(2, 0);
        d.record(1, 10);
        assert_eq!(d.received, 10);
        assert_eq!(d.duplicates, 1, "3 twice");
        assert_eq!(d.reordered, 1, "2 after 3");
        assert_eq!(d.out_of_range, 2, "sender 2 and number 10");
        assert_eq!(d.distinct(), 7);
    }
}
