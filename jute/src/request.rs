//! A client request body, typed by its opcode, and the multi encodings.
//!
//! The server decodes `RequestHeader` then calls [`Request::decode`] with the opcode and the
//! rest of the frame; the load generator and tests use [`Request::encode`].

use crate::codec::{decode_all, decode_prefix, Codec};
use crate::consts::OpCode;
use crate::error::DecodeError;
use crate::proto::*;
use bytes::BytesMut;

/// One op inside a multi (writes) or multiRead (reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiOp {
    /// create (1), create2 (15) or createContainer (19).
    Create(OpCode, CreateRequest),
    CreateTtl(CreateTtlRequest),
    Delete(DeleteRequest),
    SetData(SetDataRequest),
    Check(CheckVersionRequest),
    GetChildren(GetChildrenRequest),
    GetData(GetDataRequest),
}

impl MultiOp {
    /// The op's opcode.
    pub fn opcode(&self) -> OpCode {
        match self {
            MultiOp::Create(op, _) => *op,
            MultiOp::CreateTtl(_) => OpCode::CreateTtl,
            MultiOp::Delete(_) => OpCode::Delete,
            MultiOp::SetData(_) => OpCode::SetData,
            MultiOp::Check(_) => OpCode::Check,
            MultiOp::GetChildren(_) => OpCode::GetChildren,
            MultiOp::GetData(_) => OpCode::GetData,
        }
    }
    /// The path the op acts on.
    pub fn path(&self) -> &str {
        match self {
            MultiOp::Create(_, r) => &r.path,
            MultiOp::CreateTtl(r) => &r.path,
            MultiOp::Delete(r) => &r.path,
            MultiOp::SetData(r) => &r.path,
            MultiOp::Check(r) => &r.path,
            MultiOp::GetChildren(r) | MultiOp::GetData(r) => &r.path,
        }
    }
    fn encode_body(&self, out: &mut BytesMut) {
        match self {
            MultiOp::Create(_, r) => r.encode(out),
            MultiOp::CreateTtl(r) => r.encode(out),
            MultiOp::Delete(r) => r.encode(out),
            MultiOp::SetData(r) => r.encode(out),
            MultiOp::Check(r) => r.encode(out),
            MultiOp::GetChildren(r) | MultiOp::GetData(r) => r.encode(out),
        }
    }
}

/// A decoded request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// create (1), create2 (15) or createContainer (19): same record, different replies.
    Create(OpCode, CreateRequest),
    CreateTtl(CreateTtlRequest),
    Delete(DeleteRequest),
    Exists(ExistsRequest),
    GetData(GetDataRequest),
    SetData(SetDataRequest),
    GetAcl(GetAclRequest),
    SetAcl(SetAclRequest),
    GetChildren(GetChildrenRequest),
    GetChildren2(GetChildrenRequest),
    Sync(SyncRequest),
    Ping,
    Multi(Vec<MultiOp>),
    MultiRead(Vec<MultiOp>),
    Reconfig(ReconfigRequest),
    CheckWatches(RemoveWatchesRequest),
    RemoveWatches(RemoveWatchesRequest),
    DeleteContainer(DeleteContainerRequest),
    Auth(AuthPacket),
    SetWatches(SetWatches),
    SetWatches2(SetWatches2),
    Sasl(SaslToken),
    GetEphemerals(GetEphemeralsRequest),
    GetAllChildrenNumber(GetAllChildrenNumberRequest),
    AddWatch(AddWatchRequest),
    WhoAmI,
    CloseSession,
}

fn ops_until_done(mut i: &[u8], read: bool) -> Result<Vec<MultiOp>, DecodeError> {
    let mut ops = Vec::new();
    loop {
        let (h, rest) = decode_prefix::<MultiHeader>(i)?;
        i = rest;
        if h.done {
            if !i.is_empty() {
                return Err(DecodeError::TrailingBytes(i.len()));
            }
            return Ok(ops);
        }
        let op = OpCode::try_from(h.op)?;
        let (m, rest) = match (op, read) {
            (OpCode::Create | OpCode::Create2 | OpCode::CreateContainer, false) => {
                decode_prefix(i).map(|(r, rest)| (MultiOp::Create(op, r), rest))?
            }
            (OpCode::CreateTtl, false) => {
                decode_prefix(i).map(|(r, rest)| (MultiOp::CreateTtl(r), rest))?
            }
            (OpCode::Delete, false) => {
                decode_prefix(i).map(|(r, rest)| (MultiOp::Delete(r), rest))?
            }
            (OpCode::SetData, false) => {
                decode_prefix(i).map(|(r, rest)| (MultiOp::SetData(r), rest))?
            }
            (OpCode::Check, false) => {
                decode_prefix(i).map(|(r, rest)| (MultiOp::Check(r), rest))?
            }
            (OpCode::GetChildren, true) => {
                decode_prefix(i).map(|(r, rest)| (MultiOp::GetChildren(r), rest))?
            }
            (OpCode::GetData, true) => {
                decode_prefix(i).map(|(r, rest)| (MultiOp::GetData(r), rest))?
            }
            _ => return Err(DecodeError::Invalid("op not allowed in this kind of multi")),
        };
        ops.push(m);
        i = rest;
    }
}

fn put_ops(ops: &[MultiOp], out: &mut BytesMut) {
    for op in ops {
        MultiHeader {
            op: op.opcode().code(),
            done: false,
            err: -1,
        }
        .encode(out);
        op.encode_body(out);
    }
    MultiHeader {
        op: -1,
        done: true,
        err: -1,
    }
    .encode(out);
}

impl Request {
    /// Decodes the body of a request with opcode `op` from the rest of its frame.
    /// Unknown opcodes and `check` outside a multi are errors (ZooKeeper answers
    /// Unimplemented and closes).
    pub fn decode(op: i32, body: &[u8]) -> Result<Request, DecodeError> {
        use OpCode as O;
        let op = OpCode::try_from(op)?;
        Ok(match op {
            O::Create | O::Create2 | O::CreateContainer => Request::Create(op, decode_all(body)?),
            O::CreateTtl => Request::CreateTtl(decode_all(body)?),
            O::Delete => Request::Delete(decode_all(body)?),
            O::Exists => Request::Exists(decode_all(body)?),
            O::GetData => Request::GetData(decode_all(body)?),
            O::SetData => Request::SetData(decode_all(body)?),
            O::GetAcl => Request::GetAcl(decode_all(body)?),
            O::SetAcl => Request::SetAcl(decode_all(body)?),
            O::GetChildren => Request::GetChildren(decode_all(body)?),
            O::GetChildren2 => Request::GetChildren2(decode_all(body)?),
            O::Sync => Request::Sync(decode_all(body)?),
            O::Ping => Request::Ping,
            O::Multi => Request::Multi(ops_until_done(body, false)?),
            O::MultiRead => Request::MultiRead(ops_until_done(body, true)?),
            O::Reconfig => Request::Reconfig(decode_all(body)?),
            O::CheckWatches => Request::CheckWatches(decode_all(body)?),
            O::RemoveWatches => Request::RemoveWatches(decode_all(body)?),
            O::DeleteContainer => Request::DeleteContainer(decode_all(body)?),
            O::Auth => Request::Auth(decode_all(body)?),
            O::SetWatches => Request::SetWatches(decode_all(body)?),
            O::SetWatches2 => Request::SetWatches2(decode_all(body)?),
            O::Sasl => Request::Sasl(decode_all(body)?),
            O::GetEphemerals => Request::GetEphemerals(decode_all(body)?),
            O::GetAllChildrenNumber => Request::GetAllChildrenNumber(decode_all(body)?),
            O::AddWatch => Request::AddWatch(decode_all(body)?),
            O::WhoAmI => Request::WhoAmI,
            O::CloseSession => Request::CloseSession,
            O::Check | O::Notification | O::CreateSession | O::Error => {
                return Err(DecodeError::UnknownValue {
                    what: "request opcode",
                    value: op.code() as i64,
                })
            }
        })
    }

    /// The request's opcode.
    pub fn opcode(&self) -> OpCode {
        use Request as R;
        match self {
            R::Create(op, _) => *op,
            R::CreateTtl(_) => OpCode::CreateTtl,
            R::Delete(_) => OpCode::Delete,
            R::Exists(_) => OpCode::Exists,
            R::GetData(_) => OpCode::GetData,
            R::SetData(_) => OpCode::SetData,
            R::GetAcl(_) => OpCode::GetAcl,
            R::SetAcl(_) => OpCode::SetAcl,
            R::GetChildren(_) => OpCode::GetChildren,
            R::GetChildren2(_) => OpCode::GetChildren2,
            R::Sync(_) => OpCode::Sync,
            R::Ping => OpCode::Ping,
            R::Multi(_) => OpCode::Multi,
            R::MultiRead(_) => OpCode::MultiRead,
            R::Reconfig(_) => OpCode::Reconfig,
            R::CheckWatches(_) => OpCode::CheckWatches,
            R::RemoveWatches(_) => OpCode::RemoveWatches,
            R::DeleteContainer(_) => OpCode::DeleteContainer,
            R::Auth(_) => OpCode::Auth,
            R::SetWatches(_) => OpCode::SetWatches,
            R::SetWatches2(_) => OpCode::SetWatches2,
            R::Sasl(_) => OpCode::Sasl,
            R::GetEphemerals(_) => OpCode::GetEphemerals,
            R::GetAllChildrenNumber(_) => OpCode::GetAllChildrenNumber,
            R::AddWatch(_) => OpCode::AddWatch,
            R::WhoAmI => OpCode::WhoAmI,
            R::CloseSession => OpCode::CloseSession,
        }
    }

    /// Appends the request body (no header).
    pub fn encode(&self, out: &mut BytesMut) {
        use Request as R;
        match self {
            R::Create(_, r) => r.encode(out),
            R::CreateTtl(r) => r.encode(out),
            R::Delete(r) => r.encode(out),
            R::Exists(r) | R::GetData(r) | R::GetChildren(r) | R::GetChildren2(r) => r.encode(out),
            R::SetData(r) => r.encode(out),
            R::GetAcl(r)
            | R::Sync(r)
            | R::DeleteContainer(r)
            | R::GetEphemerals(r)
            | R::GetAllChildrenNumber(r) => r.encode(out),
            R::SetAcl(r) => r.encode(out),
            R::Multi(ops) | R::MultiRead(ops) => put_ops(ops, out),
            R::Reconfig(r) => r.encode(out),
            R::CheckWatches(r) | R::RemoveWatches(r) => r.encode(out),
            R::Auth(r) => r.encode(out),
            R::SetWatches(r) => r.encode(out),
            R::SetWatches2(r) => r.encode(out),
            R::Sasl(r) => r.encode(out),
            R::AddWatch(r) => r.encode(out),
            R::Ping | R::WhoAmI | R::CloseSession => {}
        }
    }
}

/// One result of a multi / multiRead reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiResult {
    /// type 1.
    Create(CreateResponse),
    /// type 15 (create2, createContainer and createTTL all report this).
    Create2(Create2Response),
    /// type 2.
    Delete,
    /// type 5.
    SetData(StatResponse),
    /// type 13.
    Check,
    /// type 8 (multiRead).
    GetChildren(GetChildrenResponse),
    /// type 4 (multiRead).
    GetData(GetDataResponse),
    /// type -1, with the error code (also carried in the MultiHeader).
    Error(i32),
}

impl MultiResult {
    fn header(&self) -> MultiHeader {
        let (op, err) = match self {
            MultiResult::Create(_) => (1, 0),
            MultiResult::Create2(_) => (15, 0),
            MultiResult::Delete => (2, 0),
            MultiResult::SetData(_) => (5, 0),
            MultiResult::Check => (13, 0),
            MultiResult::GetChildren(_) => (8, 0),
            MultiResult::GetData(_) => (4, 0),
            MultiResult::Error(e) => (-1, *e),
        };
        MultiHeader {
            op,
            done: false,
            err,
        }
    }
}

/// Appends a multi reply body: each result with its header, then the terminator.
pub fn encode_multi_results(results: &[MultiResult], out: &mut BytesMut) {
    for r in results {
        r.header().encode(out);
        match r {
            MultiResult::Create(c) => c.encode(out),
            MultiResult::Create2(c) => c.encode(out),
            MultiResult::SetData(s) => s.encode(out),
            MultiResult::GetChildren(c) => c.encode(out),
            MultiResult::GetData(d) => d.encode(out),
            MultiResult::Error(e) => ErrorResponse { err: *e }.encode(out),
            MultiResult::Delete | MultiResult::Check => {}
        }
    }
    MultiHeader {
        op: -1,
        done: true,
        err: -1,
    }
    .encode(out);
}

/// Decodes a multi reply body (clients, tests).
pub fn decode_multi_results(mut i: &[u8]) -> Result<Vec<MultiResult>, DecodeError> {
    let mut out = Vec::new();
    loop {
        let (h, rest) = decode_prefix::<MultiHeader>(i)?;
        i = rest;
        if h.done {
            return if i.is_empty() {
                Ok(out)
            } else {
                Err(DecodeError::TrailingBytes(i.len()))
            };
        }
        let (r, rest) = match h.op {
            1 => decode_prefix(i).map(|(r, rest)| (MultiResult::Create(r), rest))?,
            15 => decode_prefix(i).map(|(r, rest)| (MultiResult::Create2(r), rest))?,
            2 => (MultiResult::Delete, i),
            5 => decode_prefix(i).map(|(r, rest)| (MultiResult::SetData(r), rest))?,
            13 => (MultiResult::Check, i),
            8 => decode_prefix(i).map(|(r, rest)| (MultiResult::GetChildren(r), rest))?,
            4 => decode_prefix(i).map(|(r, rest)| (MultiResult::GetData(r), rest))?,
            -1 => decode_prefix::<ErrorResponse>(i)
                .map(|(r, rest)| (MultiResult::Error(r.err), rest))?,
            v => {
                return Err(DecodeError::UnknownValue {
                    what: "multi result type",
                    value: v as i64,
                })
            }
        };
        out.push(r);
        i = rest;
    }
}
