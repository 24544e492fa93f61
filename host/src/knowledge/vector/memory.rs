//! The embedded vector index: exact (brute-force) search over each partition's vectors
//! held in memory. Exact search needs no training or tuning and stays fast for shops with
//! up to ~100k chunks (see `cargo bench -p loa --bench knowledge`); the store stays the
//! source of truth and fills this index at start.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;

use super::{IndexError, Partition, PointKind, VectorHit, VectorIndex, VectorPoint};

/// Exact in-memory search, one shard per partition.
pub struct MemoryIndex {
    dimension: usize,
    shards: RwLock<HashMap<Partition, Arc<RwLock<Shard>>>>,
}

/// One partition's points, vectors stored back to back so a scan is one linear read.
#[derive(Default)]
struct Shard {
    ids: Vec<String>,
    kinds: Vec<PointKind>,
    items: Vec<String>,
    vectors: Vec<f32>,
    position_of: HashMap<String, usize>,
}

impl Shard {
    fn upsert(&mut self, dimension: usize, point: VectorPoint) {
        if let Some(&position) = self.position_of.get(&point.id) {
            self.kinds[position] = point.kind;
            self.items[position] = point.item_id;
            self.vectors[position * dimension..(position + 1) * dimension]
                .copy_from_slice(&point.vector);
            return;
        }
        self.position_of.insert(point.id.clone(), self.ids.len());
        self.ids.push(point.id);
        self.kinds.push(point.kind);
        self.items.push(point.item_id);
        self.vectors.extend_from_slice(&point.vector);
    }

    /// Removes by swapping the last point into the hole: O(1), order does not matter.
    fn remove(&mut self, dimension: usize, id: &str) {
        let Some(position) = self.position_of.remove(id) else {
            return;
        };
        let last = self.ids.len() - 1;
        if position != last {
            self.vectors.copy_within(
                last * dimension..(last + 1) * dimension,
                position * dimension,
            );
            self.position_of.insert(self.ids[last].clone(), position);
        }
        self.ids.swap_remove(position);
        self.kinds.swap_remove(position);
        self.items.swap_remove(position);
        self.vectors.truncate(last * dimension);
    }

    fn search(
        &self,
        dimension: usize,
        query: &[f32],
        kind: Option<PointKind>,
        limit: usize,
    ) -> Vec<VectorHit> {
        let mut scored: Vec<(f32, usize)> = self
            .vectors
            .chunks_exact(dimension)
            .enumerate()
            .filter(|(position, _)| kind.is_none_or(|kind| self.kinds[*position] == kind))
            .map(|(position, vector)| (dot(query, vector), position))
            .collect();
        let limit = limit.min(scored.len());
        if limit == 0 {
            return Vec::new();
        }
        // Partial selection first: only the best `limit` get sorted.
        scored.select_nth_unstable_by(limit - 1, |a, b| b.0.total_cmp(&a.0));
        scored.truncate(limit);
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored
            .into_iter()
            .map(|(score, position)| VectorHit {
                id: self.ids[position].clone(),
                kind: self.kinds[position],
                item_id: self.items[position].clone(),
                score,
            })
            .collect()
    }
}

/// Dot product in eight independent lanes, so the compiler vectorises it (SSE/AVX) without
/// `unsafe` or a SIMD crate.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let mut sums = [0.0f32; LANES];
    let a_chunks = a.chunks_exact(LANES);
    let b_chunks = b.chunks_exact(LANES);
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..LANES {
            sums[lane] += x[lane] * y[lane];
        }
    }
    sums.iter().sum::<f32>() + tail
}

impl MemoryIndex {
    /// An empty index of `dimension`-long vectors.
    pub fn new(dimension: usize) -> Self {
        Self {
            dimension,
            shards: RwLock::new(HashMap::new()),
        }
    }

    fn shard(&self, partition: &Partition) -> Option<Arc<RwLock<Shard>>> {
        self.shards
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(partition)
            .cloned()
    }

    fn shard_or_create(&self, partition: &Partition) -> Arc<RwLock<Shard>> {
        if let Some(shard) = self.shard(partition) {
            return shard;
        }
        self.shards
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(partition.clone())
            .or_default()
            .clone()
    }

    fn check(&self, vector: &[f32]) -> Result<(), IndexError> {
        if vector.len() == self.dimension {
            Ok(())
        } else {
            Err(IndexError::Dimension {
                expected: self.dimension,
                got: vector.len(),
            })
        }
    }
}

#[async_trait]
impl VectorIndex for MemoryIndex {
    fn is_persistent(&self) -> bool {
        false
    }

    async fn upsert(
        &self,
        partition: &Partition,
        points: Vec<VectorPoint>,
    ) -> Result<(), IndexError> {
        for point in &points {
            self.check(&point.vector)?;
        }
        let shard = self.shard_or_create(partition);
        let mut shard = shard.write().unwrap_or_else(PoisonError::into_inner);
        for point in points {
            shard.upsert(self.dimension, point);
        }
        Ok(())
    }

    async fn delete(&self, partition: &Partition, ids: &[String]) -> Result<(), IndexError> {
        if let Some(shard) = self.shard(partition) {
            let mut shard = shard.write().unwrap_or_else(PoisonError::into_inner);
            for id in ids {
                shard.remove(self.dimension, id);
            }
        }
        Ok(())
    }

    async fn delete_item(
        &self,
        partition: &Partition,
        kind: PointKind,
        item_id: &str,
    ) -> Result<(), IndexError> {
        if let Some(shard) = self.shard(partition) {
            let mut shard = shard.write().unwrap_or_else(PoisonError::into_inner);
            let doomed: Vec<String> = (0..shard.ids.len())
                .filter(|&position| {
                    shard.kinds[position] == kind && shard.items[position] == item_id
                })
                .map(|position| shard.ids[position].clone())
                .collect();
            for id in doomed {
                shard.remove(self.dimension, &id);
            }
        }
        Ok(())
    }

    async fn drop_partition(&self, partition: &Partition) -> Result<(), IndexError> {
        self.shards
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(partition);
        Ok(())
    }

    async fn search(
        &self,
        partition: &Partition,
        query: &[f32],
        kind: Option<PointKind>,
        limit: usize,
    ) -> Result<Vec<VectorHit>, IndexError> {
        self.check(query)?;
        Ok(match self.shard(partition) {
            Some(shard) => shard.read().unwrap_or_else(PoisonError::into_inner).search(
                self.dimension,
                query,
                kind,
                limit,
            ),
            None => Vec::new(),
        })
    }

    async fn count(&self, partition: &Partition) -> Result<usize, IndexError> {
        Ok(self.shard(partition).map_or(0, |shard| {
            shard
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .ids
                .len()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::dot;

    #[test]
    fn dot_matches_the_naive_sum_for_any_length() {
        for length in [0usize, 1, 7, 8, 9, 384, 385] {
            let a: Vec<f32> = (0..length).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..length).map(|i| (i as f32 * 0.11).cos()).collect();
            let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - naive).abs() < 1e-4, "length {length}");
        }
    }
}
