//! ACLs: identities a connection holds, ZooKeeper's permission check, ACL validation
//! ("fixup") for create/setACL, and the reference-counted ACL cache snapshots store.

use base64::Engine;
use jute::consts::perms;
use jute::data::{Acl, Id};
use sha1::{Digest, Sha1};
use std::collections::HashMap;
use std::sync::Arc;

/// `user:base64(sha1("user:password"))`, the id a digest `addauth` yields.
pub fn digest_id(user_password: &str) -> String {
    let user = user_password.split(':').next().unwrap_or("");
    let hash = Sha1::digest(user_password.as_bytes());
    format!(
        "{user}:{}",
        base64::engine::general_purpose::STANDARD.encode(hash)
    )
}

/// Whether `ids` (a connection's identities) grant `wanted` on a node with `acl`.
pub fn check(acl: &[Acl], wanted: i32, ids: &[Id], skip_acl: bool) -> bool {
    if skip_acl || acl.is_empty() || ids.iter().any(|i| i.scheme == "super") {
        return true;
    }
    acl.iter().any(|a| {
        a.perms & wanted != 0
            && ((a.id.scheme == "world" && a.id.id == "anyone")
                || ids
                    .iter()
                    .any(|i| i.scheme == a.id.scheme && id_matches(&a.id, &i.id)))
    })
}

/// Whether a caller id (of the ACL's scheme) matches the ACL's id.
fn id_matches(acl_id: &Id, caller: &str) -> bool {
    match acl_id.scheme.as_str() {
        "ip" => ip_matches(&acl_id.id, caller),
        _ => acl_id.id == caller,
    }
}

/// Parses `a.b.c.d` or `a.b.c.d/bits`. ZooKeeper 3.8.0's ip provider understands IPv4
/// only, so IPv6 ids are invalid ACLs and never match.
fn parse_cidr(s: &str) -> Option<([u8; 4], u32)> {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u32>().ok()?)),
        None => (s, None),
    };
    let addr = parse_v4(addr)?;
    let bits = bits.unwrap_or(32);
    (bits <= 32).then_some((addr, bits))
}

fn parse_v4(s: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = s.split('.');
    for b in out.iter_mut() {
        *b = parts.next()?.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// IP ACL match: both addresses masked to the ACL's prefix length.
pub fn ip_matches(acl_id: &str, caller: &str) -> bool {
    let (Some((net, bits)), Some(addr)) = (parse_cidr(acl_id), parse_v4(caller)) else {
        return false;
    };
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    u32::from_be_bytes(net) & mask == u32::from_be_bytes(addr) & mask
}

/// Validates and expands an ACL list as ZooKeeper's fixupACL does: drops duplicates,
/// expands `auth` to the caller's authenticated ids, rejects unknown schemes and bad ids.
/// `None` means InvalidACL.
pub fn fixup(acl: &[Acl], ids: &[Id]) -> Option<Vec<Acl>> {
    if acl.is_empty() {
        return None;
    }
    let mut out: Vec<Acl> = Vec::with_capacity(acl.len());
    let mut push = |a: Acl| {
        if !out.contains(&a) {
            out.push(a);
        }
    };
    for a in acl {
        match a.id.scheme.as_str() {
            "world" if a.id.id == "anyone" => push(a.clone()),
            "auth" => {
                let mut any = false;
                for i in java_order(ids)
                    .into_iter()
                    .filter(|i| is_authenticated_scheme(&i.scheme))
                {
                    any = true;
                    push(Acl {
                        perms: a.perms,
                        id: i.clone(),
                    });
                }
                if !any {
                    return None;
                }
            }
            "digest" if a.id.id.matches(':').count() == 1 => push(a.clone()),
            "ip" if parse_cidr(&a.id.id).is_some() => push(a.clone()),
            _ => return None,
        }
    }
    Some(out)
}

/// Java's `String.hashCode` over UTF-16 units.
fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(u as i32))
}

/// A caller's ids in the order ZooKeeper iterates them: its auth-info set is hash-based,
/// so whoAmI replies and `auth` ACL expansion follow Java's hash-table bucket order.
pub fn java_order(ids: &[Id]) -> Vec<&Id> {
    let mut n = 16usize;
    while ids.len() * 4 > n * 3 {
        n *= 2;
    }
    let bucket = |i: &Id| {
        let h = 17i32
            .wrapping_mul(37)
            .wrapping_add(java_string_hash(&i.scheme));
        let h = h.wrapping_mul(37).wrapping_add(java_string_hash(&i.id)) as u32;
        ((h ^ (h >> 16)) & 0x7fff_ffff) as usize & (n - 1)
    };
    let mut v: Vec<&Id> = ids.iter().collect();
    v.sort_by_key(|i| bucket(i));
    v
}

/// Schemes whose ids count for the `auth` ACL scheme (ip does not).
fn is_authenticated_scheme(s: &str) -> bool {
    matches!(s, "digest" | "sasl" | "x509")
}

/// ACL check result with the id masking getACL applies to callers without ADMIN.
pub fn mask_digests(acl: &[Acl]) -> Vec<Acl> {
    acl.iter()
        .map(|a| {
            if a.id.scheme == "digest" {
                let user = a.id.id.split(':').next().unwrap_or("");
                Acl {
                    perms: a.perms,
                    id: Id::new("digest", &format!("{user}:x")),
                }
            } else {
                a.clone()
            }
        })
        .collect()
}

/// Reference id of OPEN_ACL_UNSAFE, never stored in the cache map (as ZooKeeper).
pub const OPEN_ACL_ID: i64 = -1;

/// Interns ACL lists: nodes store a small id; snapshots store the id → list map.
#[derive(Debug)]
pub struct AclCache {
    by_id: HashMap<i64, (Arc<[Acl]>, u64)>,
    by_list: HashMap<Arc<[Acl]>, i64>,
    next_id: i64,
    open: Arc<[Acl]>,
}

impl Default for AclCache {
    fn default() -> Self {
        AclCache {
            by_id: HashMap::new(),
            by_list: HashMap::new(),
            next_id: 1,
            open: Acl::open().into(),
        }
    }
}

impl AclCache {
    /// Returns the id for `acl`, adding a reference.
    pub fn intern(&mut self, acl: &[Acl]) -> i64 {
        if acl == &*self.open {
            return OPEN_ACL_ID;
        }
        if let Some(&id) = self.by_list.get(acl) {
            if let Some(e) = self.by_id.get_mut(&id) {
                e.1 += 1;
            }
            return id;
        }
        let id = self.next_id;
        self.next_id += 1;
        let list: Arc<[Acl]> = acl.into();
        self.by_list.insert(list.clone(), id);
        self.by_id.insert(id, (list, 1));
        id
    }

    /// Drops one reference to `id`, forgetting the list at zero.
    pub fn release(&mut self, id: i64) {
        if let Some(e) = self.by_id.get_mut(&id) {
            e.1 -= 1;
            if e.1 == 0 {
                if let Some((list, _)) = self.by_id.remove(&id) {
                    self.by_list.remove(&list);
                }
            }
        }
    }

    /// The list for `id` (empty if unknown, which grants everything, as ZooKeeper).
    pub fn get(&self, id: i64) -> Arc<[Acl]> {
        if id == OPEN_ACL_ID {
            return self.open.clone();
        }
        self.by_id
            .get(&id)
            .map(|e| e.0.clone())
            .unwrap_or_else(|| Arc::from(Vec::new()))
    }

    /// Every (id, list) pair, ordered by id (snapshots).
    pub fn entries(&self) -> Vec<(i64, Arc<[Acl]>)> {
        let mut v: Vec<_> = self
            .by_id
            .iter()
            .map(|(k, (l, _))| (*k, l.clone()))
            .collect();
        v.sort_by_key(|e| e.0);
        v
    }

    /// Registers a list under a known id with zero references (snapshot load).
    pub fn insert_with_id(&mut self, id: i64, acl: Vec<Acl>) {
        let list: Arc<[Acl]> = acl.into();
        self.by_list.insert(list.clone(), id);
        self.by_id.insert(id, (list, 0));
        self.next_id = self.next_id.max(id + 1);
    }

    /// Adds a reference to a known id (snapshot load).
    pub fn add_ref(&mut self, id: i64) {
        if let Some(e) = self.by_id.get_mut(&id) {
            e.1 += 1;
        }
    }
}

/// Permission needed for each op, for readability at call sites.
pub use perms::{ADMIN, CREATE, DELETE, READ, WRITE};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_vectors() {
        assert_eq!(
            digest_id("super:secret"),
            "super:lK75jTNcA+U9vtVEw5vB51mj/w4="
        );
        assert_eq!(
            digest_id("user:password"),
            "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY="
        );
    }

    #[test]
    fn java_hash_order_matches_zookeeper() {
        let ids = [
            Id::new("ip", "127.0.0.1"),
            Id::new("digest", "super:lK75jTNcA+U9vtVEw5vB51mj/w4="),
            Id::new("super", ""),
        ];
        let order: Vec<&str> = java_order(&ids).iter().map(|i| i.scheme.as_str()).collect();
        assert_eq!(order, ["super", "digest", "ip"]);
    }

    #[test]
    fn ip_cidr() {
        assert!(ip_matches("127.0.0.1", "127.0.0.1"));
        assert!(ip_matches("127.0.0.0/8", "127.1.2.3"));
        assert!(!ip_matches("10.0.0.0/8", "127.1.2.3"));
        assert!(!ip_matches("::1", "127.0.0.1"));
        assert!(ip_matches("0.0.0.0/0", "10.1.1.1"));
        assert_eq!(
            fixup(
                &[Acl {
                    perms: 1,
                    id: Id::new("ip", "::1")
                }],
                &[]
            ),
            None
        );
    }

    #[test]
    fn fixup_rules() {
        let world = Acl::open();
        assert_eq!(fixup(&world, &[]), Some(world.clone()));
        let auth = vec![Acl {
            perms: 31,
            id: Id::new("auth", ""),
        }];
        assert_eq!(fixup(&auth, &[Id::new("ip", "127.0.0.1")]), None);
        let ids = [Id::new("digest", "u:h")];
        assert_eq!(fixup(&auth, &ids).unwrap()[0].id, ids[0]);
        assert_eq!(
            fixup(
                &[Acl {
                    perms: 1,
                    id: Id::new("super", "x")
                }],
                &ids
            ),
            None
        );
        assert_eq!(fixup(&[], &ids), None);
    }
}
