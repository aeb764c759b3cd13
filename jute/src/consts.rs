//! ZooKeeper's numeric constants as typed enums: opcodes, error codes, watch states and
//! types, create modes, permissions. Unknown values decode to [`DecodeError::UnknownValue`].

use crate::error::DecodeError;

macro_rules! int_enum {
    ($(#[$m:meta])* $name:ident : $what:literal { $($(#[$vm:meta])* $v:ident = $n:expr),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(i32)]
        pub enum $name { $($(#[$vm])* $v = $n),* }

        impl $name {
            /// Every defined value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$v),*];
            /// The wire value.
            pub fn code(self) -> i32 { self as i32 }
        }

        impl TryFrom<i32> for $name {
            type Error = DecodeError;
            fn try_from(v: i32) -> Result<Self, DecodeError> {
                match v {
                    $($n => Ok($name::$v),)*
                    _ => Err(DecodeError::UnknownValue { what: $what, value: v as i64 }),
                }
            }
        }

        impl From<$name> for i32 {
            fn from(v: $name) -> i32 { v as i32 }
        }
    };
}

int_enum! {
    /// Request opcodes (`ZooDefs.OpCode`).
    OpCode: "opcode" {
        Notification = 0, Create = 1, Delete = 2, Exists = 3, GetData = 4, SetData = 5,
        GetAcl = 6, SetAcl = 7, GetChildren = 8, Sync = 9, Ping = 11, GetChildren2 = 12,
        Check = 13, Multi = 14, Create2 = 15, Reconfig = 16, CheckWatches = 17,
        RemoveWatches = 18, CreateContainer = 19, DeleteContainer = 20, CreateTtl = 21,
        MultiRead = 22, Auth = 100, SetWatches = 101, Sasl = 102, GetEphemerals = 103,
        GetAllChildrenNumber = 104, SetWatches2 = 105, AddWatch = 106, WhoAmI = 107,
        CreateSession = -10, CloseSession = -11, Error = -1,
    }
}

impl OpCode {
    /// Whether the op becomes a txn with its own zxid (ZooKeeper's "quorum" ops).
    pub fn is_write(self) -> bool {
        use OpCode::*;
        matches!(
            self,
            Create
                | Delete
                | SetData
                | SetAcl
                | Check
                | Multi
                | Create2
                | Reconfig
                | CreateContainer
                | DeleteContainer
                | CreateTtl
                | CreateSession
                | CloseSession
        )
    }
}

int_enum! {
    /// `KeeperException.Code`: the `err` of a reply header.
    Code: "error code" {
        Ok = 0, SystemError = -1, RuntimeInconsistency = -2, DataInconsistency = -3,
        ConnectionLoss = -4, MarshallingError = -5, Unimplemented = -6,
        OperationTimeout = -7, BadArguments = -8, UnknownSession = -12,
        NewConfigNoQuorum = -13, ReconfigInProgress = -14, ApiError = -100, NoNode = -101,
        NoAuth = -102, BadVersion = -103, NoChildrenForEphemerals = -108, NodeExists = -110,
        NotEmpty = -111, SessionExpired = -112, InvalidCallback = -113, InvalidAcl = -114,
        AuthFailed = -115, SessionMoved = -118, NotReadOnly = -119,
        EphemeralOnLocalSession = -120, NoWatcher = -121, RequestTimeout = -122,
        ReconfigDisabled = -123, SessionClosedRequireSaslAuth = -124, QuotaExceeded = -125,
        ThrottledOp = -127,
    }
}

int_enum! {
    /// `Watcher.Event.KeeperState`.
    KeeperState: "keeper state" {
        Unknown = -1, Disconnected = 0, NoSyncConnected = 1, SyncConnected = 3,
        AuthFailed = 4, ConnectedReadOnly = 5, SaslAuthenticated = 6, Expired = -112,
        Closed = 7,
    }
}

int_enum! {
    /// `Watcher.Event.EventType`.
    EventType: "event type" {
        None = -1, NodeCreated = 1, NodeDeleted = 2, NodeDataChanged = 3,
        NodeChildrenChanged = 4, DataWatchRemoved = 5, ChildWatchRemoved = 6,
        PersistentWatchRemoved = 7,
    }
}

int_enum! {
    /// `Watcher.WatcherType`, the `type` of checkWatches/removeWatches.
    WatcherType: "watcher type" {
        Children = 1, Data = 2, Any = 3, Persistent = 4, PersistentRecursive = 5,
    }
}

int_enum! {
    /// `AddWatchMode`, the mode of an addWatch request.
    AddWatchMode: "add-watch mode" { Persistent = 0, PersistentRecursive = 1 }
}

int_enum! {
    /// `CreateMode`, the flags of a create request.
    CreateMode: "create mode" {
        Persistent = 0, Ephemeral = 1, PersistentSequential = 2, EphemeralSequential = 3,
        Container = 4, PersistentWithTtl = 5, PersistentSequentialWithTtl = 6,
    }
}

impl CreateMode {
    /// Whether the server appends a `%010d` sequence suffix.
    pub fn is_sequential(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentSequential
                | CreateMode::EphemeralSequential
                | CreateMode::PersistentSequentialWithTtl
        )
    }
    /// Whether the node belongs to the creating session.
    pub fn is_ephemeral(self) -> bool {
        matches!(
            self,
            CreateMode::Ephemeral | CreateMode::EphemeralSequential
        )
    }
    /// Whether the node carries a TTL.
    pub fn is_ttl(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl
        )
    }
}

/// ACL permission bits (`ZooDefs.Perms`).
pub mod perms {
    /// Read data and list children.
    pub const READ: i32 = 1;
    pub const WRITE: i32 = 2;
    pub const CREATE: i32 = 4;
    pub const DELETE: i32 = 8;
    pub const ADMIN: i32 = 16;
    pub const ALL: i32 = 31;
}

/// A typed ACL permission mask (`ZooDefs.Perms`); the bits are those of [`perms`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Perms(pub i32);

impl Perms {
    /// Read data and list children.
    pub const READ: Perms = Perms(perms::READ);
    /// Set data.
    pub const WRITE: Perms = Perms(perms::WRITE);
    /// Create children.
    pub const CREATE: Perms = Perms(perms::CREATE);
    /// Delete children.
    pub const DELETE: Perms = Perms(perms::DELETE);
    /// Set the ACL.
    pub const ADMIN: Perms = Perms(perms::ADMIN);
    /// Everything.
    pub const ALL: Perms = Perms(perms::ALL);
    /// No permission at all.
    pub const NONE: Perms = Perms(0);

    /// Whether every bit of `other` is granted by `self`.
    pub fn contains(self, other: Perms) -> bool {
        self.0 & other.0 == other.0
    }
    /// The wire value.
    pub fn bits(self) -> i32 {
        self.0
    }
}

impl std::ops::BitOr for Perms {
    type Output = Perms;
    fn bitor(self, rhs: Perms) -> Perms {
        Perms(self.0 | rhs.0)
    }
}

impl From<i32> for Perms {
    fn from(v: i32) -> Perms {
        Perms(v)
    }
}

impl From<Perms> for i32 {
    fn from(p: Perms) -> i32 {
        p.0
    }
}

/// Special request xids.
pub mod xid {
    /// Server → client watch notification.
    pub const NOTIFICATION: i32 = -1;
    /// Ping.
    pub const PING: i32 = -2;
    /// Auth packet.
    pub const AUTH: i32 = -4;
    /// SetWatches on reconnect.
    pub const SET_WATCHES: i32 = -8;
}

/// Magic numbers of ZooKeeper's files.
pub mod magic {
    /// "ZKLG", transaction log.
    pub const TXN_LOG: i32 = 0x5A4B_4C47;
    /// "ZKSN", snapshot.
    pub const SNAPSHOT: i32 = 0x5A4B_534E;
}

/// ZooKeeper's default `jute.maxbuffer`: 0xfffff bytes.
pub const DEFAULT_MAX_BUFFER: usize = 0xfffff;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_and_reject_unknown() {
        for op in OpCode::ALL {
            assert_eq!(OpCode::try_from(op.code()), Ok(*op));
        }
        assert!(OpCode::try_from(10).is_err());
        assert_eq!(Code::try_from(-101), Ok(Code::NoNode));
        assert!(CreateMode::try_from(7).is_err());
        assert_eq!(magic::TXN_LOG, i32::from_be_bytes(*b"ZKLG"));
        assert_eq!(magic::SNAPSHOT, i32::from_be_bytes(*b"ZKSN"));
    }
}
