//! Sessions: id allocation, passwords, timeouts and expiry in tick-sized buckets, as
//! ZooKeeper's SessionTrackerImpl/ExpiryQueue do.

use crate::fast::{HashMap, HashSet};
use std::collections::BTreeMap;

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: i64,
    pub timeout_ms: u32,
    /// Bucket (ms on the tracker's clock) in which it expires.
    pub expire_at: u64,
    /// Set once expiry or close has been decided; no more requests are accepted.
    pub closing: bool,
}

/// Tracks sessions and when each expires.
#[derive(Debug)]
pub struct SessionTracker {
    sessions: HashMap<i64, Session>,
    buckets: BTreeMap<u64, HashSet<i64>>,
    next_id: i64,
    tick_ms: u64,
}

/// First session id for a server: server id in the top byte, then 40 bits of clock.
pub fn initial_session_id(server_id: i64, now_ms: u64) -> i64 {
    let t = ((now_ms as i64) << 24) as u64 >> 8;
    (t as i64) | (server_id << 56)
}

/// The 16-byte password of a session: java.util.Random seeded with `id ^ 0xB3415C00`.
pub fn password(session_id: i64) -> [u8; 16] {
    const MUL: i64 = 0x5DEECE66D;
    const MASK: i64 = (1 << 48) - 1;
    let mut seed = (session_id ^ 0xB3415C00 ^ MUL) & MASK;
    let mut out = [0u8; 16];
    for chunk in out.chunks_mut(4) {
        seed = (seed.wrapping_mul(MUL).wrapping_add(0xB)) & MASK;
        let v = (seed >> 16) as i32;
        for (i, b) in chunk.iter_mut().enumerate() {
            *b = (v >> (8 * i)) as u8;
        }
    }
    out
}

impl SessionTracker {
    /// A tracker allocating ids from `initial_session_id(server_id, now)`.
    pub fn new(server_id: i64, wall_ms: u64, tick_ms: u64) -> SessionTracker {
        SessionTracker {
            sessions: HashMap::default(),
            buckets: BTreeMap::new(),
            next_id: initial_session_id(server_id, wall_ms),
            tick_ms: tick_ms.max(1),
        }
    }

    fn bucket(&self, t: u64) -> u64 {
        (t / self.tick_ms + 1) * self.tick_ms
    }

    /// Allocates the next session id (never Long.MIN_VALUE, the container marker).
    pub fn next_id(&mut self) -> i64 {
        let mut id = self.next_id;
        if id == i64::MIN {
            id += 1;
        }
        self.next_id = id.wrapping_add(1);
        id
    }

    /// Registers a session (new, or restored from disk / a txn) and schedules its expiry.
    pub fn add(&mut self, id: i64, timeout_ms: u32, now: u64) {
        if let Some(old) = self.sessions.remove(&id) {
            self.unschedule(id, old.expire_at);
        }
        let expire_at = self.bucket(now + timeout_ms as u64);
        self.buckets.entry(expire_at).or_default().insert(id);
        self.sessions.insert(
            id,
            Session {
                id,
                timeout_ms,
                expire_at,
                closing: false,
            },
        );
    }

    fn unschedule(&mut self, id: i64, at: u64) {
        if let Some(b) = self.buckets.get_mut(&at) {
            b.remove(&id);
            if b.is_empty() {
                self.buckets.remove(&at);
            }
        }
    }

    /// Extends a live session's expiry; false if it is unknown or closing.
    pub fn touch(&mut self, id: i64, now: u64) -> bool {
        let Some(s) = self.sessions.get(&id) else {
            return false;
        };
        if s.closing {
            return false;
        }
        let (old, timeout) = (s.expire_at, s.timeout_ms);
        let new = self.bucket(now + timeout as u64);
        if new != old {
            self.unschedule(id, old);
            self.buckets.entry(new).or_default().insert(id);
            if let Some(s) = self.sessions.get_mut(&id) {
                s.expire_at = new;
            }
        }
        true
    }

    /// Changes the timeout (a reconnect negotiates a new one) and touches.
    pub fn set_timeout(&mut self, id: i64, timeout_ms: u32, now: u64) {
        if let Some(s) = self.sessions.get_mut(&id) {
            s.timeout_ms = timeout_ms;
        }
        self.touch(id, now);
    }

    /// Marks a session closing; later requests on it fail with SessionExpired.
    pub fn set_closing(&mut self, id: i64) {
        if let Some(s) = self.sessions.get_mut(&id) {
            s.closing = true;
        }
    }

    /// Forgets a session (its closeSession txn was applied).
    pub fn remove(&mut self, id: i64) {
        if let Some(s) = self.sessions.remove(&id) {
            self.unschedule(id, s.expire_at);
        }
    }

    /// Looks a session up.
    pub fn get(&self, id: i64) -> Option<&Session> {
        self.sessions.get(&id)
    }

    /// Whether a session exists and is not closing.
    pub fn is_live(&self, id: i64) -> bool {
        self.sessions.get(&id).is_some_and(|s| !s.closing)
    }

    /// Sessions whose bucket has passed at `now`; they are marked closing.
    pub fn expire(&mut self, now: u64) -> Vec<i64> {
        let mut out = Vec::new();
        while let Some((&at, _)) = self.buckets.first_key_value() {
            if at > now {
                break;
            }
            if let Some(ids) = self.buckets.remove(&at) {
                for id in ids {
                    if let Some(s) = self.sessions.get_mut(&id) {
                        if !s.closing {
                            s.closing = true;
                            out.push(id);
                        }
                    }
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// Every session (snapshots, `dump`, `mntr`).
    pub fn iter(&self) -> impl Iterator<Item = &Session> {
        self.sessions.values()
    }

    /// Number of sessions.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether there are no sessions.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Expiry buckets with their sessions (for `dump`).
    pub fn buckets(&self) -> &BTreeMap<u64, HashSet<i64>> {
        &self.buckets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn password_vectors() {
        assert_eq!(
            hex(&password(0x0100000000000000)),
            "f22acd4a97e69d6d20a49bb638eadb38"
        );
        assert_eq!(
            hex(&password(0x010000a3b5c70000)),
            "6b6ba9e11c10dee8c1cfd672c523ac5d"
        );
    }

    #[test]
    fn expiry_by_bucket() {
        let mut t = SessionTracker::new(1, 1_000_000, 2000);
        let id = t.next_id();
        assert_eq!(id >> 56, 1);
        t.add(id, 4000, 0);
        assert!(t.expire(4000).is_empty());
        assert!(t.touch(id, 3000));
        assert!(t.expire(6000).is_empty());
        assert_eq!(t.expire(8000), vec![id]);
        assert!(!t.touch(id, 8000));
    }
}
