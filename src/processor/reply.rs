//! Replies to applied writes, built from the txn's result as ZooKeeper's
//! FinalRequestProcessor builds them.

use super::apply::TxnResult;
use super::Core;
use crate::watch::ConnId;
use jute::proto::{Create2Response, CreateResponse, ReplyHeader, StatResponse};
use jute::request::{encode_multi_results, MultiResult};
use jute::{Codec, OpCode};
use std::time::Instant;

/// The short op names `cons` prints as `lop`.
pub fn op_abbrev(op: OpCode) -> &'static str {
    use OpCode::*;
    match op {
        Create | Create2 | CreateContainer | CreateTtl => "CREA",
        Delete | DeleteContainer => "DELE",
        Exists => "EXIS",
        GetData => "GETD",
        SetData => "SETD",
        GetAcl => "GETA",
        SetAcl => "SETA",
        GetChildren | GetChildren2 => "GETC",
        Sync => "SYNC",
        Ping => "PING",
        Multi | MultiRead => "MULT",
        CreateSession => "SESS",
        CloseSession => "CLOS",
        SetWatches | SetWatches2 => "SETW",
        Auth => "AUTH",
        _ => "NA",
    }
}

fn multi_result(kind: i32, r: &TxnResult) -> MultiResult {
    match r {
        TxnResult::Created { path, stat } if kind == OpCode::Create.code() => {
            MultiResult::Create(CreateResponse { path: path.clone() })
        }
        TxnResult::Created { path, stat } => MultiResult::Create2(Create2Response {
            path: path.clone(),
            stat: stat.clone(),
        }),
        TxnResult::Deleted => MultiResult::Delete,
        TxnResult::SetData(s) | TxnResult::SetAcl(s) => {
            MultiResult::SetData(StatResponse { stat: s.clone() })
        }
        TxnResult::Error(c) => MultiResult::Error(c.code()),
        _ => MultiResult::Check,
    }
}

impl Core {
    /// Writes the reply for an applied write.
    pub(super) fn write_reply(
        &mut self,
        conn: ConnId,
        xid: i32,
        op: OpCode,
        zxid: i64,
        result: &TxnResult,
        received: Instant,
    ) {
        let err = match result {
            TxnResult::Error(c) => c.code(),
            _ => 0,
        };
        self.frame(conn, |o| {
            ReplyHeader { xid, zxid, err }.encode(o);
            match result {
                TxnResult::Created { path, .. } if op == OpCode::Create => {
                    CreateResponse { path: path.clone() }.encode(o)
                }
                TxnResult::Created { path, stat } => Create2Response {
                    path: path.clone(),
                    stat: stat.clone(),
                }
                .encode(o),
                TxnResult::SetData(s) | TxnResult::SetAcl(s) => s.encode(o),
                TxnResult::Multi(rs) => {
                    let results: Vec<MultiResult> =
                        rs.iter().map(|(k, r)| multi_result(*k, r)).collect();
                    encode_multi_results(&results, o);
                }
                _ => {}
            }
        });
        self.record_latency(conn, op, xid, zxid, received);
    }
}
