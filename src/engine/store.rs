//! Per-rule keyed state with a bound: a map from group key to a value, ordered by last update so that
//! the least recently updated key is evicted when the rule holds `max` keys. Each entry remembers the
//! Kafka partition of the event that last updated it, and keys touched since the last
//! [`KeyedStore::drain_dirty`] are remembered so that only they go to a changelog. It knows nothing
//! of what the values mean. Also the serde of held events and the change set of state that is not
//! keyed by group (`all`/`not_all`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// The topic and partition an event came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct SourcePartition {
    pub topic: String,
    pub partition: i32,
}

/// A key touched since the last drain: its source and value, or `None` if it is gone.
pub type Dirty<'a, V> = (Arc<str>, Option<Arc<SourcePartition>>, Option<&'a V>);

#[derive(Debug)]
struct Slot<V> {
    seq: u64,
    source: Option<Arc<SourcePartition>>,
    value: V,
}

/// Group key to state, LRU-bounded, with a dirty set.
#[derive(Debug)]
pub struct KeyedStore<V> {
    entries: HashMap<Arc<str>, Slot<V>>,
    /// Update sequence to key: the first entry is the least recently updated.
    order: BTreeMap<u64, Arc<str>>,
    next_seq: u64,
    max: usize,
    /// Touched keys with the partition they belong to, kept here so that a removed key can still
    /// be tombstoned in its partition.
    dirty: HashMap<Arc<str>, Option<Arc<SourcePartition>>>,
    /// Whether `dirty` is kept: only when someone drains it, else it would grow without bound.
    tracking: bool,
    /// Keys dropped to stay within `max`, since the engine started.
    pub evicted: u64,
}

impl<V> KeyedStore<V> {
    pub fn new(max: usize) -> KeyedStore<V> {
        KeyedStore {
            entries: HashMap::new(),
            order: BTreeMap::new(),
            next_seq: 0,
            max: max.max(1),
            dirty: HashMap::new(),
            tracking: false,
            evicted: 0,
        }
    }

    /// Starts or stops remembering touched keys for [`Self::drain_dirty`].
    pub fn set_tracking(&mut self, on: bool) {
        self.tracking = on;
        if !on {
            self.dirty.clear();
        }
    }

    fn mark(&mut self, key: Arc<str>, source: Option<Arc<SourcePartition>>) {
        if self.tracking {
            self.dirty.insert(key, source);
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.entries.get(key).map(|slot| &slot.value)
    }

    /// The value for `key`, created with `init` if absent, marked as updated now from `source`.
    /// Inserting past the bound evicts the least recently updated key, returned with its value.
    pub fn upsert(
        &mut self,
        key: &str,
        source: Option<Arc<SourcePartition>>,
        init: impl FnOnce() -> V,
    ) -> (&mut V, Option<(Arc<str>, V)>) {
        let (value, evicted, _) = self.upsert_from(key, source, init);
        (value, evicted)
    }

    /// [`Self::upsert`], also saying whether the key was there and last updated from `source`.
    pub fn upsert_from(
        &mut self,
        key: &str,
        source: Option<Arc<SourcePartition>>,
        init: impl FnOnce() -> V,
    ) -> (&mut V, Option<(Arc<str>, V)>, bool) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut evicted = None;
        let (shared, existed): (Arc<str>, bool) = match self.entries.get_key_value(key) {
            Some((shared, slot)) => {
                let shared = Arc::clone(shared);
                self.order.remove(&slot.seq);
                (shared, true)
            }
            None => {
                if self.entries.len() >= self.max {
                    evicted = self.evict_oldest();
                }
                let shared: Arc<str> = Arc::from(key);
                self.entries.insert(
                    Arc::clone(&shared),
                    Slot {
                        seq,
                        source: None,
                        value: init(),
                    },
                );
                (shared, false)
            }
        };
        self.order.insert(seq, Arc::clone(&shared));
        self.mark(Arc::clone(&shared), source.clone());
        let slot = self
            .entries
            .get_mut(&shared)
            .expect("the key was found or inserted above");
        slot.seq = seq;
        let same_source = existed && slot.source == source;
        slot.source = source;
        (&mut slot.value, evicted, same_source)
    }

    /// Changes a key's value without counting it as an update for eviction (a timer firing).
    pub fn modify(&mut self, key: &str) -> Option<&mut V> {
        let (shared, slot) = self.entries.get_key_value(key)?;
        let (shared, source) = (Arc::clone(shared), slot.source.clone());
        self.mark(shared, source);
        self.entries.get_mut(key).map(|slot| &mut slot.value)
    }

    pub fn remove(&mut self, key: &str) -> Option<V> {
        let (shared, slot) = self.entries.remove_entry(key)?;
        self.order.remove(&slot.seq);
        self.mark(shared, slot.source);
        Some(slot.value)
    }

    /// Removes a key as a changelog tombstone says: not itself a change.
    pub fn discard(&mut self, key: &str) {
        if let Some(slot) = self.entries.remove(key) {
            self.order.remove(&slot.seq);
        }
        self.dirty.remove(key);
    }

    fn evict_oldest(&mut self) -> Option<(Arc<str>, V)> {
        let (_, key) = self.order.pop_first()?;
        let slot = self.entries.remove(&key)?;
        self.mark(Arc::clone(&key), slot.source);
        self.evicted += 1;
        Some((key, slot.value))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &V)> {
        self.entries.iter().map(|(k, slot)| (k, &slot.value))
    }

    /// Whether some key was touched since the last [`Self::drain_dirty`].
    pub fn has_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// Keys touched since the last call, each with its source and current value (`None`: removed,
    /// with the source it had, so that its tombstone lands where its state was written).
    pub fn drain_dirty(&mut self) -> Vec<Dirty<'_, V>> {
        let dirty = std::mem::take(&mut self.dirty);
        dirty
            .into_iter()
            .map(|(key, source)| match self.entries.get(&key) {
                Some(slot) => (key, slot.source.clone(), Some(&slot.value)),
                None => (key, source, None),
            })
            .collect()
    }

    /// Puts back a key from a changelog, as the most recently updated; not dirty (it is already
    /// in the changelog).
    pub fn restore(&mut self, key: &str, source: Option<Arc<SourcePartition>>, value: V) {
        let mut value = Some(value);
        let (slot, _) = self.upsert(key, source, || value.take().expect("taken once, here"));
        if let Some(newer) = value {
            *slot = newer;
        }
        self.dirty.remove(key);
    }

    /// Drops, without a changelog entry, every key last updated from `partition` (it now belongs to
    /// another instance). Returns the dropped keys.
    pub fn forget(&mut self, partition: &SourcePartition) -> Vec<Arc<str>> {
        let gone: Vec<Arc<str>> = self
            .entries
            .iter()
            .filter(|(_, slot)| slot.source.as_deref() == Some(partition))
            .map(|(key, _)| Arc::clone(key))
            .collect();
        for key in &gone {
            if let Some(slot) = self.entries.remove(key) {
                self.order.remove(&slot.seq);
            }
            self.dirty.remove(key);
        }
        gone
    }
}

/// Serde for held events: they stay shared JMESPath values in memory (no conversion on the hot path)
/// and are written as plain JSON.
pub mod events_serde {
    use jmespath::{Rcvar, Variable};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::sync::Arc;

    pub fn serialize<S: Serializer>(events: &[Rcvar], serializer: S) -> Result<S::Ok, S::Error> {
        let plain: Vec<&Variable> = events.iter().map(|e| &**e).collect();
        plain.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Rcvar>, D::Error> {
        let plain = Vec::<Variable>::deserialize(deserializer)?;
        Ok(plain.into_iter().map(Arc::new).collect())
    }
}

/// Serde for an optional held event, as [`events_serde`] does for a list.
pub mod event_serde {
    use jmespath::{Rcvar, Variable};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::sync::Arc;

    pub fn serialize<S: Serializer>(
        event: &Option<Rcvar>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        event.as_deref().serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Rcvar>, D::Error> {
        Ok(Option::<Variable>::deserialize(deserializer)?.map(Arc::new))
    }
}

/// What changed since a changelog last looked; nothing is kept while nobody looks (tracking off),
/// as the set would only grow.
#[derive(Debug)]
pub struct ChangeSet<K>(Option<HashSet<K>>);

impl<K> Default for ChangeSet<K> {
    fn default() -> Self {
        ChangeSet(None)
    }
}

impl<K: Eq + std::hash::Hash> ChangeSet<K> {
    /// Turning it on again keeps what is already remembered.
    pub fn set_tracking(&mut self, on: bool) {
        if on {
            self.0.get_or_insert_with(HashSet::new);
        } else {
            self.0 = None;
        }
    }

    pub fn insert(&mut self, key: K) {
        if let Some(set) = &mut self.0 {
            set.insert(key);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(HashSet::is_empty)
    }

    pub fn take(&mut self) -> HashSet<K> {
        self.0.as_mut().map(std::mem::take).unwrap_or_default()
    }
}

/// Serde for bound slots, as [`events_serde`] does for a list of events.
pub mod slots_serde {
    use jmespath::{Rcvar, Variable};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::sync::Arc;

    pub fn serialize<S: Serializer>(
        slots: &[Option<Rcvar>],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let plain: Vec<Option<&Variable>> = slots.iter().map(Option::as_deref).collect();
        plain.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Option<Rcvar>>, D::Error> {
        let plain = Vec::<Option<Variable>>::deserialize(deserializer)?;
        Ok(plain.into_iter().map(|slot| slot.map(Arc::new)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partition(n: i32) -> Option<Arc<SourcePartition>> {
        Some(Arc::new(SourcePartition {
            topic: "t".into(),
            partition: n,
        }))
    }

    #[test]
    fn the_least_recently_updated_key_goes_first() {
        let mut store = KeyedStore::new(2);
        store.upsert("a", None, || 1);
        store.upsert("b", None, || 2);
        store.upsert("a", None, || 0);
        let (_, evicted) = store.upsert("c", None, || 3);
        assert_eq!(
            evicted.map(|(k, v)| (k.to_string(), v)),
            Some(("b".into(), 2))
        );
        assert_eq!(store.evicted, 1);
        assert_eq!(store.get("a"), Some(&1));
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn dirty_keys_are_reported_once_and_removals_keep_their_partition() {
        let mut store = KeyedStore::new(10);
        store.upsert("untracked", None, || 0);
        store.set_tracking(true);
        store.upsert("a", partition(1), || 1);
        store.upsert("b", partition(2), || 2);
        store.remove("b");
        let mut changes: Vec<(String, Option<i32>, Option<i32>)> = store
            .drain_dirty()
            .into_iter()
            .map(|(k, s, v)| (k.to_string(), s.map(|s| s.partition), v.copied()))
            .collect();
        changes.sort();
        assert_eq!(
            changes,
            vec![("a".into(), Some(1), Some(1)), ("b".into(), Some(2), None)]
        );
        assert!(store.drain_dirty().is_empty());
    }

    #[test]
    fn forget_drops_only_the_keys_of_that_partition() {
        let mut store = KeyedStore::new(10);
        store.set_tracking(true);
        store.upsert("a", partition(1), || 1);
        store.upsert("b", partition(2), || 2);
        store.drain_dirty();
        let gone = store.forget(&SourcePartition {
            topic: "t".into(),
            partition: 1,
        });
        assert_eq!(gone.len(), 1);
        assert_eq!(store.get("a"), None);
        assert_eq!(store.get("b"), Some(&2));
        assert!(store.drain_dirty().is_empty());
    }
}
