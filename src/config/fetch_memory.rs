//! How much memory `rules run`'s consumer may hold in records fetched ahead of evaluation, and the
//! librdkafka queue sizes that follow from it. librdkafka's defaults prefetch up to 64 MiB into its
//! local queue (`queued.max.messages.kbytes`) plus 100,000 records per partition
//! (`queued.min.messages`) and fetch up to 50 MB at once (`fetch.max.bytes`): most of the process's
//! memory, and far more than keeping the engine busy needs. The budget gives half to the queue and
//! half to one fetch response (the queued records live in the fetch buffers they came in, so the
//! two overlap rather than add up), and, per partition, at most an eighth per fetch. Measured: the
//! size of one fetch decides whether the consumer keeps up (a quarter of 16 MiB lost a fifth of the
//! throughput, half lost none). `-X` still overrides each key.

use super::ConfigError;

/// The default budget: measured to keep `rules run` under 64 MiB of resident memory at full speed,
/// with no loss of throughput against librdkafka's defaults on an idle machine, where 16 MiB lost
/// two fifths of it (docs/performance.md).
pub const DEFAULT_FETCH_MEMORY_MIB: u32 = 28;
/// Records of about this size make up a budget's share of `queued.min.messages`.
const TYPICAL_RECORD_BYTES: u64 = 512;

/// Memory for prefetched records, in MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchMemory {
    mib: u32,
}

impl Default for FetchMemory {
    fn default() -> FetchMemory {
        FetchMemory {
            mib: DEFAULT_FETCH_MEMORY_MIB,
        }
    }
}

impl FetchMemory {
    /// At least 4 MiB: a fetch response gets half, and librdkafka refuses a `fetch.max.bytes`
    /// below its `message.max.bytes` (1,000,000 by default).
    pub fn mib(mib: u32) -> Result<FetchMemory, ConfigError> {
        if mib < 4 {
            return Err(ConfigError::FetchMemoryTooSmall { mib });
        }
        Ok(FetchMemory { mib })
    }

    /// The librdkafka consumer keys and values the budget gives.
    pub(super) fn keys(self) -> Vec<(&'static str, String)> {
        let bytes = u64::from(self.mib) * 1024 * 1024;
        let queue_kib = bytes / 2 / 1024;
        let fetch = bytes / 2;
        let partition_fetch = (bytes / 8).min(1024 * 1024);
        let min_messages = (bytes / 4 / TYPICAL_RECORD_BYTES).max(1_000);
        vec![
            ("queued.max.messages.kbytes", queue_kib.to_string()),
            ("fetch.max.bytes", fetch.to_string()),
            ("max.partition.fetch.bytes", partition_fetch.to_string()),
            ("queued.min.messages", min_messages.to_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(memory: FetchMemory, key: &str) -> u64 {
        let keys = memory.keys();
        let (_, value) = keys.iter().find(|(k, _)| *k == key).unwrap();
        value.parse().unwrap()
    }

    #[test]
    fn the_budget_bounds_the_queue_and_each_fetch() {
        let memory = FetchMemory::mib(32).unwrap();
        assert_eq!(get(memory, "queued.max.messages.kbytes"), 16 * 1024);
        assert_eq!(get(memory, "fetch.max.bytes"), 16 * 1024 * 1024);
        assert_eq!(get(memory, "max.partition.fetch.bytes"), 1024 * 1024);
        assert_eq!(get(memory, "queued.min.messages"), 16_384);
    }

    #[test]
    fn a_small_budget_still_fetches_what_librdkafka_requires_and_a_tiny_one_is_refused() {
        let memory = FetchMemory::mib(4).unwrap();
        assert_eq!(get(memory, "fetch.max.bytes"), 2 * 1024 * 1024);
        assert_eq!(get(memory, "max.partition.fetch.bytes"), 512 * 1024);
        assert!(FetchMemory::mib(3).is_err());
    }
}
