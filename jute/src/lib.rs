//! `jute`: every record Apache ZooKeeper reads or writes — client protocol, txns, quorum
//! packets, file headers — with nom decoders and `bytes` encoders.
//!
//! No I/O and no async runtime: the server, tools and tests all share these types. Decoding
//! never panics: malformed input becomes a [`DecodeError`], short input becomes
//! `nom::Err::Incomplete` so a stream reader can wait for more bytes, and lengths are checked
//! before anything is allocated.

pub mod codec;
pub mod consts;
pub mod data;
pub mod error;
pub mod file;
pub mod frame;
pub mod proto;
pub mod quorum;
pub mod request;
pub mod txn;

pub use codec::{decode_all, decode_prefix, Codec, Limits};
pub use consts::{
    AddWatchMode, Code, CreateMode, EventType, KeeperState, OpCode, Perms, WatcherType,
};
pub use error::{DecodeError, JResult};
pub use request::{MultiOp, MultiResult, Request};
