//! Records of module `org.apache.zookeeper.data`: identities, ACLs and Stats.

use crate::record;

record! {
    /// An identity: `scheme:id`, e.g. `world:anyone`, `digest:user:hash`, `ip:10.0.0.0/8`.
    pub struct Id { pub scheme: String, pub id: String }
}

record! {
    /// One ACL entry: a permission mask granted to an identity.
    pub struct Acl { pub perms: i32, pub id: Id }
}

record! {
    /// The Stat a client sees (68 bytes).
    pub struct Stat {
        pub czxid: i64, pub mzxid: i64, pub ctime: i64, pub mtime: i64,
        pub version: i32, pub cversion: i32, pub aversion: i32,
        pub ephemeral_owner: i64, pub data_length: i32, pub num_children: i32,
        pub pzxid: i64,
    }
}

record! {
    /// The Stat as stored in snapshots (60 bytes): no dataLength/numChildren, stored cversion.
    pub struct StatPersisted {
        pub czxid: i64, pub mzxid: i64, pub ctime: i64, pub mtime: i64,
        pub version: i32, pub cversion: i32, pub aversion: i32,
        pub ephemeral_owner: i64, pub pzxid: i64,
    }
}

record! {
    /// One entry of a whoAmI reply.
    pub struct ClientInfo { pub auth_scheme: String, pub user: String }
}

impl Id {
    /// Builds an id from its two parts.
    pub fn new(scheme: &str, id: &str) -> Id {
        Id {
            scheme: scheme.to_owned(),
            id: id.to_owned(),
        }
    }
}

impl Acl {
    /// `world:anyone` with all permissions (OPEN_ACL_UNSAFE).
    pub fn open() -> Vec<Acl> {
        vec![Acl {
            perms: crate::consts::perms::ALL,
            id: Id::new("world", "anyone"),
        }]
    }
    /// `world:anyone` read-only (READ_ACL_UNSAFE).
    pub fn read_only() -> Vec<Acl> {
        vec![Acl {
            perms: crate::consts::perms::READ,
            id: Id::new("world", "anyone"),
        }]
    }
}
