//! Skipping redelivered events by `event_id` over a bounded window.
//!
//! At-least-once delivery means a restart or rebalance can hand the consumer an event it
//! already handled, and a producer retry can publish the same event twice (same `event_id`).
//! The window remembers the last `capacity` handled ids in memory only: it narrows the
//! duplicate window, it does not close it across restarts.

use std::collections::{HashSet, VecDeque};

use uuid::Uuid;

pub(crate) struct DedupWindow {
    capacity: usize,
    seen: HashSet<Uuid>,
    order: VecDeque<Uuid>,
}

impl DedupWindow {
    pub fn new(capacity: usize) -> Self {
        DedupWindow {
            capacity,
            seen: HashSet::with_capacity(capacity.min(1 << 16)),
            order: VecDeque::with_capacity(capacity.min(1 << 16)),
        }
    }

    pub fn contains(&self, id: &Uuid) -> bool {
        self.seen.contains(id)
    }

    pub fn insert(&mut self, id: Uuid) {
        if self.capacity == 0 || !self.seen.insert(id) {
            return;
        }
        self.order.push_back(id);
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_oldest_beyond_capacity() {
        let ids: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
        let mut w = DedupWindow::new(2);
        w.insert(ids[0]);
        w.insert(ids[1]);
        assert!(w.contains(&ids[0]) && w.contains(&ids[1]));
        w.insert(ids[2]);
        assert!(!w.contains(&ids[0]));
        assert!(w.contains(&ids[1]) && w.contains(&ids[2]));
        w.insert(ids[2]);
        assert!(w.contains(&ids[1]));
    }
}
