//! Which images each step trains on: the plan's entries in a seeded order per epoch, cut into
//! batches, and a count of what has been drawn (distinct images, duplicate draws). A function of
//! (seed, step) alone, so a resumed run replays the same batches.

use crate::data::rng::Rng;

pub struct Batches {
    /// Plan entries: indices into the uploaded images; entries from `copy_start` on are copies.
    indices: Vec<u32>,
    copy_start: usize,
    batch: usize,
    per_epoch: usize,
    seed: u64,
    order: Vec<u32>,
    order_epoch: usize,
    seen: Vec<bool>,
    pub unique_seen: usize,
    pub dup_seen: usize,
}

impl Batches {
    pub fn new(
        indices: &[u32],
        copy_start: usize,
        images: usize,
        batch: usize,
        seed: u64,
    ) -> Batches {
        Batches {
            indices: indices.to_vec(),
            copy_start,
            batch,
            per_epoch: indices.len().div_ceil(batch),
            seed,
            order: vec![],
            order_epoch: usize::MAX,
            seen: vec![false; images],
            unique_seen: 0,
            dup_seen: 0,
        }
    }

    /// The image indices of `step`'s batch; counts them as seen.
    pub fn draw(&mut self, step: usize) -> Vec<u32> {
        let (epoch, pos) = (step / self.per_epoch, step % self.per_epoch);
        if epoch != self.order_epoch {
            self.order = (0..self.indices.len() as u32).collect();
            Rng::derive(self.seed, "shuffle", epoch as u64).shuffle(&mut self.order);
            self.order_epoch = epoch;
        }
        let keys = &self.order[pos * self.batch..((pos + 1) * self.batch).min(self.order.len())];
        let mut out = Vec::with_capacity(keys.len());
        for &k in keys {
            let img = self.indices[k as usize];
            if k as usize >= self.copy_start {
                self.dup_seen += 1;
            }
            if !self.seen[img as usize] {
                self.seen[img as usize] = true;
                self.unique_seen += 1;
            }
            out.push(img);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_epoch_draws_every_entry_once_and_counts_copies() {
        // 6 originals, then copies of images 0 and 1.
        let idx = [0, 1, 2, 3, 4, 5, 0, 1];
        let mut b = Batches::new(&idx, 6, 6, 3, 9);
        let mut all: Vec<u32> = (0..3).flat_map(|s| b.draw(s)).collect();
        all.sort();
        assert_eq!(all, vec![0, 0, 1, 1, 2, 3, 4, 5]);
        assert_eq!((b.unique_seen, b.dup_seen), (6, 2));
        // The same seed replays the same batches.
        let mut again = Batches::new(&idx, 6, 6, 3, 9);
        let mut first = Batches::new(&idx, 6, 6, 3, 9);
        assert_eq!(again.draw(4), first.draw(4));
    }
}
