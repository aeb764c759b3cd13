//! Watches: ZooKeeper's two tables (data and child watches) keyed by path, each entry a
//! connection and a mode, with the 3.8 trigger rules (one-shot standard watches,
//! persistent watches, persistent-recursive watches on ancestors).

use crate::fast::{HashMap, HashSet};
use jute::EventType;

/// A connection, as watches know it.
pub type ConnId = u64;

/// How a watch behaves when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchMode {
    /// One-shot: removed when fired.
    Standard,
    /// Stays; fires for this path only.
    Persistent,
    /// Stays; fires for this path and all descendants (never NodeChildrenChanged).
    PersistentRecursive,
}

/// One table: path → (connection → mode), plus the reverse index for cleanup.
#[derive(Debug, Default)]
pub struct WatchTable {
    by_path: HashMap<Box<str>, HashMap<ConnId, WatchMode>>,
    by_conn: HashMap<ConnId, HashSet<Box<str>>>,
    recursive: usize,
}

impl WatchTable {
    /// Adds or replaces a connection's watch on a path (3.8: one mode per path, last wins).
    pub fn add(&mut self, path: &str, conn: ConnId, mode: WatchMode) {
        let old = self
            .by_path
            .entry(path.into())
            .or_default()
            .insert(conn, mode);
        if old == Some(WatchMode::PersistentRecursive) {
            self.recursive -= 1;
        }
        if mode == WatchMode::PersistentRecursive {
            self.recursive += 1;
        }
        self.by_conn.entry(conn).or_default().insert(path.into());
    }

    /// Removes a connection's watch on a path; false if there was none.
    pub fn remove(&mut self, path: &str, conn: ConnId) -> bool {
        let Some(m) = self.by_path.get_mut(path) else {
            return false;
        };
        let Some(mode) = m.remove(&conn) else {
            return false;
        };
        if m.is_empty() {
            self.by_path.remove(path);
        }
        if mode == WatchMode::PersistentRecursive {
            self.recursive -= 1;
        }
        if let Some(p) = self.by_conn.get_mut(&conn) {
            p.remove(path);
            if p.is_empty() {
                self.by_conn.remove(&conn);
            }
        }
        true
    }

    /// The mode of a connection's watch on a path.
    pub fn mode(&self, path: &str, conn: ConnId) -> Option<WatchMode> {
        self.by_path.get(path).and_then(|m| m.get(&conn)).copied()
    }

    /// Drops every watch of a closed connection.
    pub fn remove_conn(&mut self, conn: ConnId) {
        let Some(paths) = self.by_conn.remove(&conn) else {
            return;
        };
        for p in paths {
            if let Some(m) = self.by_path.get_mut(&p) {
                if m.remove(&conn) == Some(WatchMode::PersistentRecursive) {
                    self.recursive -= 1;
                }
                if m.is_empty() {
                    self.by_path.remove(&p);
                }
            }
        }
    }

    /// Fires `event` at `path`: collects the connections to notify into `out` and removes
    /// the one-shot watches that fired. Recursive watches on ancestors (and on the path)
    /// fire for everything but NodeChildrenChanged.
    pub fn trigger(&mut self, path: &str, event: EventType, out: &mut Vec<ConnId>) {
        if let Some(m) = self.by_path.get_mut(path) {
            let mut fired_once = Vec::new();
            m.retain(|&conn, mode| {
                if *mode != WatchMode::PersistentRecursive
                    || event != EventType::NodeChildrenChanged
                {
                    out.push(conn);
                }
                if *mode == WatchMode::Standard {
                    fired_once.push(conn);
                    return false;
                }
                true
            });
            if m.is_empty() {
                self.by_path.remove(path);
            }
            for conn in fired_once {
                if let Some(p) = self.by_conn.get_mut(&conn) {
                    p.remove(path);
                    if p.is_empty() {
                        self.by_conn.remove(&conn);
                    }
                }
            }
        }
        if self.recursive > 0 && event != EventType::NodeChildrenChanged {
            let mut p = path;
            while let Some(i) = crate::tree::last_slash(p) {
                p = if i == 0 { "/" } else { &p[..i] };
                if let Some(m) = self.by_path.get(p) {
                    out.extend(
                        m.iter()
                            .filter(|(_, m)| **m == WatchMode::PersistentRecursive)
                            .map(|(c, _)| *c),
                    );
                }
                if p == "/" {
                    break;
                }
            }
        }
    }

    /// Number of (path, connection) watches.
    pub fn len(&self) -> usize {
        self.by_path.values().map(|m| m.len()).sum()
    }

    /// Whether no watch is registered.
    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }

    /// Number of watched paths.
    pub fn path_count(&self) -> usize {
        self.by_path.len()
    }

    /// Number of connections with watches.
    pub fn conn_count(&self) -> usize {
        self.by_conn.len()
    }

    /// path → connections (for `wchp`).
    pub fn by_path(&self) -> &HashMap<Box<str>, HashMap<ConnId, WatchMode>> {
        &self.by_path
    }

    /// connection → paths (for `wchc`).
    pub fn by_conn(&self) -> &HashMap<ConnId, HashSet<Box<str>>> {
        &self.by_conn
    }
}

/// Both tables.
#[derive(Debug, Default)]
pub struct WatchManager {
    pub data: WatchTable,
    pub child: WatchTable,
}

impl WatchManager {
    /// Drops every watch of a closed connection from both tables.
    pub fn drop_conn(&mut self, conn: ConnId) {
        self.data.remove_conn(conn);
        self.child.remove_conn(conn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_is_one_shot_persistent_stays() {
        let mut t = WatchTable::default();
        t.add("/a", 1, WatchMode::Standard);
        t.add("/a", 2, WatchMode::Persistent);
        let mut out = vec![];
        t.trigger("/a", EventType::NodeDataChanged, &mut out);
        out.sort();
        assert_eq!(out, vec![1, 2]);
        out.clear();
        t.trigger("/a", EventType::NodeDataChanged, &mut out);
        assert_eq!(out, vec![2]);
        assert!(t.by_conn().get(&1).is_none());
    }

    #[test]
    fn recursive_fires_for_descendants_but_not_children_changed() {
        let mut t = WatchTable::default();
        t.add("/", 7, WatchMode::PersistentRecursive);
        let mut out = vec![];
        t.trigger("/a/b", EventType::NodeCreated, &mut out);
        assert_eq!(out, vec![7]);
        out.clear();
        t.trigger("/a", EventType::NodeChildrenChanged, &mut out);
        assert!(out.is_empty());
        t.remove_conn(7);
        assert!(t.is_empty());
    }
}
