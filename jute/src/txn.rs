//! Records of module `org.apache.zookeeper.txn`: what the log stores and the leader proposes.
//!
//! A txn entry is a [`TxnHeader`], the record its `kind` implies, and an optional trailing
//! [`TxnDigest`]. [`TxnEntry`] decodes and encodes the whole thing.

use crate::codec::{decode_all, finish_err, Codec};
use crate::consts::OpCode;
use crate::data::Acl;
use crate::error::{DecodeError, JResult};
use crate::record;
use bytes::{Bytes, BytesMut};

record! {
    /// Header of every txn: who, which client xid, zxid, leader wall-clock ms, opcode.
    pub struct TxnHeader { pub client_id: i64, pub cxid: i32, pub zxid: i64, pub time: i64, pub kind: i32 }
}
record! {
    /// Tree digest after applying the txn (version 2).
    pub struct TxnDigest { pub version: i32, pub tree_digest: i64 }
}
record! {
    /// Legacy create txn without parentCVersion (read-only).
    pub struct CreateTxnV0 { pub path: String, pub data: Option<Bytes>, pub acl: Vec<Acl>, pub ephemeral: bool }
}
record! {
    /// create / create2.
    pub struct CreateTxn {
        pub path: String, pub data: Option<Bytes>, pub acl: Vec<Acl>, pub ephemeral: bool,
        pub parent_cversion: i32,
    }
}
record! {
    /// createTTL.
    pub struct CreateTtlTxn {
        pub path: String, pub data: Option<Bytes>, pub acl: Vec<Acl>, pub parent_cversion: i32, pub ttl: i64,
    }
}
record! {
    /// createContainer.
    pub struct CreateContainerTxn { pub path: String, pub data: Option<Bytes>, pub acl: Vec<Acl>, pub parent_cversion: i32 }
}
record! {
    /// delete / deleteContainer.
    pub struct DeleteTxn { pub path: String }
}
record! {
    /// setData and reconfig; `version` is the node's NEW version.
    pub struct SetDataTxn { pub path: String, pub data: Option<Bytes>, pub version: i32 }
}
record! {
    /// check inside a multi.
    pub struct CheckVersionTxn { pub path: String, pub version: i32 }
}
record! {
    /// setACL; `version` is the node's NEW aversion.
    pub struct SetAclTxn { pub path: String, pub acl: Vec<Acl>, pub version: i32 }
}
record! {
    /// Legacy quota txn, still defined by ZooKeeper.
    pub struct SetMaxChildrenTxn { pub path: String, pub max: i32 }
}
record! {
    /// createSession: the negotiated timeout.
    pub struct CreateSessionTxn { pub timeout: i32 }
}
record! {
    /// closeSession: the session's ephemerals at close time.
    pub struct CloseSessionTxn { pub paths_to_delete: Vec<String> }
}
record! {
    /// A failed write (type -1), still logged with its zxid.
    pub struct ErrorTxn { pub err: i32 }
}
record! {
    /// One sub-txn of a multi: its type and its serialized record.
    pub struct Txn { pub kind: i32, pub data: Bytes }
}
record! {
    /// multi.
    pub struct MultiTxn { pub txns: Vec<Txn> }
}

/// reconfig is logged as a SetDataTxn on `/zookeeper/config`.
pub type ReconfigTxn = SetDataTxn;

/// The record of a txn, chosen by the header's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnBody {
    Create(CreateTxn),
    /// A create read from an old log without parentCVersion.
    CreateV0(CreateTxnV0),
    CreateTtl(CreateTtlTxn),
    CreateContainer(CreateContainerTxn),
    /// delete and deleteContainer.
    Delete(DeleteTxn),
    /// setData and reconfig.
    SetData(SetDataTxn),
    SetAcl(SetAclTxn),
    Check(CheckVersionTxn),
    Multi(Vec<TxnBodyOf>),
    CreateSession(CreateSessionTxn),
    /// closeSession; `None` for old logs that wrote no body.
    CloseSession(Option<CloseSessionTxn>),
    Error(ErrorTxn),
    SetMaxChildren(SetMaxChildrenTxn),
}

/// A multi sub-txn with its own type (create vs create2, delete vs deleteContainer, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnBodyOf {
    pub kind: i32,
    pub body: TxnBody,
}

impl TxnBody {
    /// Decodes the record for txn type `kind` from a complete buffer.
    pub fn decode_kind(kind: i32, i: &[u8]) -> Result<(TxnBody, &[u8]), DecodeError> {
        fn one<T: Codec>(i: &[u8]) -> Result<(T, &[u8]), DecodeError> {
            T::decode(i).map(|(r, v)| (v, r)).map_err(finish_err)
        }
        let op = OpCode::try_from(kind)?;
        Ok(match op {
            // Java retries a type-1 (not create2) CreateTxn that hits EOF as CreateTxnV0.
            OpCode::Create | OpCode::Create2 => match one::<CreateTxn>(i) {
                Ok((t, r)) => (TxnBody::Create(t), r),
                Err(DecodeError::Truncated) if op == OpCode::Create => {
                    let (t, r) = one::<CreateTxnV0>(i)?;
                    (TxnBody::CreateV0(t), r)
                }
                Err(e) => return Err(e),
            },
            OpCode::CreateTtl => one(i).map(|(t, r)| (TxnBody::CreateTtl(t), r))?,
            OpCode::CreateContainer => one(i).map(|(t, r)| (TxnBody::CreateContainer(t), r))?,
            OpCode::Delete | OpCode::DeleteContainer => {
                one(i).map(|(t, r)| (TxnBody::Delete(t), r))?
            }
            OpCode::SetData | OpCode::Reconfig => one(i).map(|(t, r)| (TxnBody::SetData(t), r))?,
            OpCode::SetAcl => one(i).map(|(t, r)| (TxnBody::SetAcl(t), r))?,
            OpCode::Check => one(i).map(|(t, r)| (TxnBody::Check(t), r))?,
            OpCode::CreateSession => one(i).map(|(t, r)| (TxnBody::CreateSession(t), r))?,
            OpCode::CloseSession if i.is_empty() => (TxnBody::CloseSession(None), i),
            OpCode::CloseSession => one(i).map(|(t, r)| (TxnBody::CloseSession(Some(t)), r))?,
            OpCode::Error => one(i).map(|(t, r)| (TxnBody::Error(t), r))?,
            OpCode::Multi => {
                let (m, r) = one::<MultiTxn>(i)?;
                let mut subs = Vec::with_capacity(m.txns.len());
                for t in &m.txns {
                    if t.kind == OpCode::Multi.code() {
                        return Err(DecodeError::Invalid("nested multi txn"));
                    }
                    let body = match TxnBody::decode_kind(t.kind, &t.data)? {
                        (b, []) => b,
                        (_, rest) => return Err(DecodeError::TrailingBytes(rest.len())),
                    };
                    subs.push(TxnBodyOf { kind: t.kind, body });
                }
                (TxnBody::Multi(subs), r)
            }
            _ => {
                return Err(DecodeError::UnknownValue {
                    what: "txn type",
                    value: kind as i64,
                })
            }
        })
    }

    /// Encodes the record (not the header).
    pub fn encode(&self, out: &mut BytesMut) {
        match self {
            TxnBody::Create(t) => t.encode(out),
            TxnBody::CreateV0(t) => t.encode(out),
            TxnBody::CreateTtl(t) => t.encode(out),
            TxnBody::CreateContainer(t) => t.encode(out),
            TxnBody::Delete(t) => t.encode(out),
            TxnBody::SetData(t) => t.encode(out),
            TxnBody::SetAcl(t) => t.encode(out),
            TxnBody::Check(t) => t.encode(out),
            TxnBody::CreateSession(t) => t.encode(out),
            TxnBody::CloseSession(Some(t)) => t.encode(out),
            TxnBody::CloseSession(None) => {}
            TxnBody::Error(t) => t.encode(out),
            TxnBody::SetMaxChildren(t) => t.encode(out),
            TxnBody::Multi(subs) => {
                let txns = subs
                    .iter()
                    .map(|s| {
                        let mut b = BytesMut::new();
                        s.body.encode(&mut b);
                        Txn {
                            kind: s.kind,
                            data: b.freeze(),
                        }
                    })
                    .collect();
                MultiTxn { txns }.encode(out)
            }
        }
    }
}

/// A whole txn entry: header, record, optional digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnEntry {
    pub header: TxnHeader,
    pub body: TxnBody,
    pub digest: Option<TxnDigest>,
}

impl TxnEntry {
    /// Decodes an entry that occupies exactly `i` (a log record body or proposal payload).
    ///
    /// A closeSession written without its CloseSessionTxn (old logs, or
    /// `zookeeper.closeSessionTxn.enabled=false`) may still carry a digest; if the bytes do
    /// not parse as record + optional digest, they are re-read as digest only.
    pub fn decode_complete(i: &[u8]) -> Result<TxnEntry, DecodeError> {
        let (header, rest) = crate::codec::decode_prefix::<TxnHeader>(i)?;
        let parsed = TxnBody::decode_kind(header.kind, rest).and_then(|(body, tail)| {
            let digest = match tail {
                [] => None,
                _ => Some(decode_all::<TxnDigest>(tail)?),
            };
            Ok((body, digest))
        });
        let (body, digest) = match parsed {
            Err(_) if header.kind == OpCode::CloseSession.code() => (
                TxnBody::CloseSession(None),
                Some(decode_all::<TxnDigest>(rest)?),
            ),
            r => r?,
        };
        Ok(TxnEntry {
            header,
            body,
            digest,
        })
    }

    /// Appends header, record and digest.
    pub fn encode(&self, out: &mut BytesMut) {
        self.header.encode(out);
        self.body.encode(out);
        if let Some(d) = &self.digest {
            d.encode(out);
        }
    }
}

/// Decodes a txn entry for streaming callers that already know its full length.
pub fn decode_entry(i: &[u8]) -> JResult<'_, TxnEntry> {
    TxnEntry::decode_complete(i)
        .map(|e| (&i[i.len()..], e))
        .map_err(nom::Err::Failure)
}
