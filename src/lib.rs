//! rzk: a drop-in replacement for Apache ZooKeeper.
//!
//! Modules are named as ZooKeeper names its concepts: `config` (zoo.cfg, myid), `tree`
//! (DataTree), `session` (tracker and expiry), `watch`, `acl`, `processor` (the request
//! pipeline), `persist` (txn log), `net` (client port), `admin` (four-letter words).

pub mod acl;
pub mod admin;
pub mod clock;
pub mod config;
pub mod fast;
pub mod net;
pub mod persist;
pub mod processor;
pub mod server;
pub mod session;
pub mod tree;
pub mod watch;
