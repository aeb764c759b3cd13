//! Operator tools: `rzk log dump FILE [--json]` and `rzk snapshot dump FILE [--json]`,
//! the counterparts of ZooKeeper's TxnLogToolkit/LogFormatter and SnapshotFormatter. They
//! read files written by ZooKeeper and by rzk alike, and report damage with its offset.

use crate::persist::logfile::{self, LogEnd};
use crate::persist::snapshot::{self, SnapSink};
use crate::persist::{files, PersistError};
use crate::tree::NodeKind;
use bytes::Bytes;
use jute::data::{Acl, StatPersisted};
use jute::txn::{TxnBody, TxnEntry};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

/// ZooKeeper's `Request.op2String` name of a txn type.
pub fn op_name(kind: i32) -> String {
    match kind {
        1 => "create",
        2 => "delete",
        5 => "setData",
        7 => "setACL",
        13 => "check",
        14 => "multi",
        15 => "create2",
        16 => "reconfig",
        19 => "createContainer",
        20 => "deleteContainer",
        21 => "createTTL",
        -10 => "createSession",
        -11 => "closeSession",
        -1 => "error",
        _ => return format!("unknown {kind}"),
    }
    .to_owned()
}

/// `YYYY-MM-DD HH:MM:SS.mmm UTC` for milliseconds since the epoch.
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, sod) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, d) = crate::clock::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03} UTC",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        ms.rem_euclid(1000)
    )
}

fn data_text(d: &Option<Bytes>) -> String {
    match d {
        None => "null".into(),
        Some(b) => match std::str::from_utf8(b) {
            Ok(s) if !s.chars().any(|c| c.is_control()) => format!("'{s}'"),
            _ => {
                let mut h = String::from("#");
                for x in b.iter() {
                    let _ = write!(h, "{x:02x}");
                }
                h
            }
        },
    }
}

fn acl_text(acl: &[Acl]) -> String {
    let parts: Vec<String> = acl
        .iter()
        .map(|a| format!("{}:{}:{}", a.id.scheme, a.id.id, perms_text(a.perms)))
        .collect();
    format!("[{}]", parts.join(","))
}

fn perms_text(p: i32) -> String {
    let mut s = String::new();
    for (bit, c) in [(1, 'r'), (2, 'w'), (4, 'c'), (8, 'd'), (16, 'a')] {
        if p & bit != 0 {
            s.push(c);
        }
    }
    s
}

fn acl_json(acl: &[Acl]) -> Value {
    Value::Array(
        acl.iter()
            .map(|a| json!({"perms": a.perms, "scheme": a.id.scheme, "id": a.id.id}))
            .collect(),
    )
}

fn data_json(d: &Option<Bytes>) -> Value {
    match d {
        None => Value::Null,
        Some(b) => match std::str::from_utf8(b) {
            Ok(s) => json!(s),
            Err(_) => json!({ "hex": data_text(d).trim_start_matches('#') }),
        },
    }
}

/// The record of a txn as text (`path,data,acl,...` in field order).
pub fn body_text(body: &TxnBody) -> String {
    match body {
        TxnBody::Create(t) => format!(
            "'{},{},{},{},{}",
            t.path,
            data_text(&t.data),
            acl_text(&t.acl),
            if t.ephemeral { "T" } else { "F" },
            t.parent_cversion
        ),
        TxnBody::CreateV0(t) => format!(
            "'{},{},{},{}",
            t.path,
            data_text(&t.data),
            acl_text(&t.acl),
            if t.ephemeral { "T" } else { "F" }
        ),
        TxnBody::CreateTtl(t) => format!(
            "'{},{},{},{},ttl={}",
            t.path,
            data_text(&t.data),
            acl_text(&t.acl),
            t.parent_cversion,
            t.ttl
        ),
        TxnBody::CreateContainer(t) => format!(
            "'{},{},{},{}",
            t.path,
            data_text(&t.data),
            acl_text(&t.acl),
            t.parent_cversion
        ),
        TxnBody::Delete(t) => format!("'{}", t.path),
        TxnBody::SetData(t) => format!("'{},{},{}", t.path, data_text(&t.data), t.version),
        TxnBody::SetAcl(t) => format!("'{},{},{}", t.path, acl_text(&t.acl), t.version),
        TxnBody::Check(t) => format!("'{},{}", t.path, t.version),
        TxnBody::CreateSession(t) => t.timeout.to_string(),
        TxnBody::CloseSession(None) => String::new(),
        TxnBody::CloseSession(Some(t)) => format!("[{}]", t.paths_to_delete.join(",")),
        TxnBody::Error(e) => e.err.to_string(),
        TxnBody::SetMaxChildren(t) => format!("'{},{}", t.path, t.max),
        TxnBody::Multi(subs) => {
            let parts: Vec<String> = subs
                .iter()
                .map(|s| format!("{}:{}", op_name(s.kind), body_text(&s.body)))
                .collect();
            format!("[{}]", parts.join("; "))
        }
    }
}

/// The record of a txn as JSON.
pub fn body_json(body: &TxnBody) -> Value {
    match body {
        TxnBody::Create(t) => {
            json!({"path": t.path, "data": data_json(&t.data), "acl": acl_json(&t.acl), "ephemeral": t.ephemeral, "parentCVersion": t.parent_cversion})
        }
        TxnBody::CreateV0(t) => {
            json!({"path": t.path, "data": data_json(&t.data), "acl": acl_json(&t.acl), "ephemeral": t.ephemeral})
        }
        TxnBody::CreateTtl(t) => {
            json!({"path": t.path, "data": data_json(&t.data), "acl": acl_json(&t.acl), "parentCVersion": t.parent_cversion, "ttl": t.ttl})
        }
        TxnBody::CreateContainer(t) => {
            json!({"path": t.path, "data": data_json(&t.data), "acl": acl_json(&t.acl), "parentCVersion": t.parent_cversion})
        }
        TxnBody::Delete(t) => json!({"path": t.path}),
        TxnBody::SetData(t) => {
            json!({"path": t.path, "data": data_json(&t.data), "version": t.version})
        }
        TxnBody::SetAcl(t) => {
            json!({"path": t.path, "acl": acl_json(&t.acl), "version": t.version})
        }
        TxnBody::Check(t) => json!({"path": t.path, "version": t.version}),
        TxnBody::CreateSession(t) => json!({"timeout": t.timeout}),
        TxnBody::CloseSession(None) => json!({}),
        TxnBody::CloseSession(Some(t)) => json!({"paths2Delete": t.paths_to_delete}),
        TxnBody::Error(e) => json!({"err": e.err}),
        TxnBody::SetMaxChildren(t) => json!({"path": t.path, "max": t.max}),
        TxnBody::Multi(subs) => Value::Array(
            subs.iter()
                .map(|s| json!({"op": op_name(s.kind), "txn": body_json(&s.body)}))
                .collect(),
        ),
    }
}

/// One log entry as a line, TxnLogToolkit style.
pub fn entry_text(e: &TxnEntry) -> String {
    let h = &e.header;
    let mut s = format!(
        "{} session 0x{:x} cxid 0x{:x} zxid 0x{:x} {} {}",
        format_time(h.time),
        h.client_id,
        h.cxid,
        h.zxid,
        op_name(h.kind),
        body_text(&e.body)
    );
    if let Some(d) = &e.digest {
        let _ = write!(s, " digest v{} {:x}", d.version, d.tree_digest);
    }
    s
}

/// One log entry as a JSON object.
pub fn entry_json(e: &TxnEntry) -> Value {
    let h = &e.header;
    json!({
        "time": h.time,
        "session": format!("0x{:x}", h.client_id),
        "cxid": h.cxid,
        "zxid": format!("0x{:x}", h.zxid),
        "op": op_name(h.kind),
        "txn": body_json(&e.body),
        "digest": e.digest.as_ref().map(|d| json!({"version": d.version, "treeDigest": d.tree_digest})),
    })
}

fn io_err(path: &Path, e: io::Error) -> PersistError {
    PersistError::io(path, e)
}

/// Prints a txn log. Returns an error (after printing what is valid) if it is damaged.
pub fn dump_log(path: &Path, json: bool, out: &mut dyn Write) -> Result<(), PersistError> {
    let bytes = files::map(path).map_err(|e| io_err(path, e))?;
    let scan = logfile::scan(&bytes);
    let w = |out: &mut dyn Write, s: String| writeln!(out, "{s}").map_err(|e| io_err(path, e));
    if let Some(h) = &scan.header {
        if !json {
            w(
                out,
                format!(
                    "ZooKeeper Transactional Log File with dbid {} txnlog format version {}",
                    h.dbid, h.version
                ),
            )?;
        }
    }
    for (_, e) in &scan.entries {
        w(
            out,
            if json {
                entry_json(e).to_string()
            } else {
                entry_text(e)
            },
        )?;
    }
    let n = scan.entries.len();
    match &scan.end {
        LogEnd::Clean { .. } => {
            if !json {
                w(out, format!("EOF reached after {n} txns."))?;
            }
            Ok(())
        }
        LogEnd::Torn { offset, reason } => {
            if !json {
                w(
                    out,
                    format!("{n} txns; torn last record at offset {offset}: {reason}"),
                )?;
            }
            Ok(())
        }
        LogEnd::Corrupt { offset, reason } => Err(PersistError::at(path, *offset, reason.clone())),
    }
}

/// Collects a snapshot for printing.
#[derive(Default)]
struct Collect {
    sessions: Vec<(i64, i32)>,
    acls: Vec<(i64, Vec<Acl>)>,
    nodes: Vec<(String, Option<Bytes>, i64, StatPersisted)>,
}

impl SnapSink<'_> for Collect {
    fn session(&mut self, id: i64, timeout: i32) {
        self.sessions.push((id, timeout));
    }
    fn acl(&mut self, id: i64, acl: Vec<Acl>) {
        self.acls.push((id, acl));
    }
    fn node(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        acl: i64,
        stat: StatPersisted,
    ) -> Result<(), String> {
        self.nodes
            .push((path.to_owned(), data.map(Bytes::copy_from_slice), acl, stat));
        Ok(())
    }
}

/// Prints a snapshot: sessions, the ACL map, and every node with its Stat.
pub fn dump_snapshot(path: &Path, json: bool, out: &mut dyn Write) -> Result<(), PersistError> {
    let bytes = files::read_snapshot(path).map_err(|e| io_err(path, e))?;
    let mut c = Collect::default();
    let trailer = snapshot::read(&bytes, &mut c).map_err(|(o, m)| PersistError::at(path, o, m))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let zxid = files::zxid_from_name(name, "snapshot");
    let text = if json {
        let nodes: Vec<Value> = c
            .nodes
            .iter()
            .map(|(p, d, acl, s)| {
                json!({
                    "path": if p.is_empty() { "/" } else { p.as_str() },
                    "data": data_json(d), "acl": acl,
                    "stat": {"czxid": format!("0x{:x}", s.czxid), "mzxid": format!("0x{:x}", s.mzxid),
                        "ctime": s.ctime, "mtime": s.mtime, "version": s.version, "cversion": s.cversion,
                        "aversion": s.aversion, "ephemeralOwner": format!("0x{:x}", s.ephemeral_owner),
                        "pzxid": format!("0x{:x}", s.pzxid)}
                })
            })
            .collect();
        let v = json!({
            "zxid": zxid.map(|z| format!("0x{z:x}")),
            "sessions": c.sessions.iter().map(|(id, t)| json!({"id": format!("0x{id:x}"), "timeout": t})).collect::<Vec<_>>(),
            "acls": c.acls.iter().map(|(id, a)| json!({"id": id, "acl": acl_json(a)})).collect::<Vec<_>>(),
            "nodes": nodes,
            "digest": trailer.digest.as_ref().map(|(z, v, d)| json!({"zxid": format!("0x{z:x}"), "version": v, "digest": format!("{d:x}")})),
        });
        v.to_string()
    } else {
        snapshot_text(&c, zxid, &trailer)
    };
    writeln!(out, "{text}").map_err(|e| io_err(path, e))
}

fn snapshot_text(c: &Collect, zxid: Option<i64>, trailer: &snapshot::Trailer) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "ZNode Details (count={}):", c.nodes.len());
    for (p, d, acl, st) in &c.nodes {
        let _ = writeln!(s, "----");
        let _ = writeln!(s, "{}", if p.is_empty() { "/" } else { p });
        let _ = writeln!(s, "  cZxid = 0x{:014x}", st.czxid);
        let _ = writeln!(s, "  ctime = {}", format_time(st.ctime));
        let _ = writeln!(s, "  mZxid = 0x{:014x}", st.mzxid);
        let _ = writeln!(s, "  mtime = {}", format_time(st.mtime));
        let _ = writeln!(s, "  pZxid = 0x{:014x}", st.pzxid);
        let _ = writeln!(s, "  cversion = {}", st.cversion);
        let _ = writeln!(s, "  dataVersion = {}", st.version);
        let _ = writeln!(s, "  aclVersion = {}", st.aversion);
        let owner = match NodeKind::of(st.ephemeral_owner) {
            NodeKind::Persistent => String::new(),
            NodeKind::Container => " (container)".into(),
            NodeKind::Ttl(t) => format!(" (ttl {t} ms)"),
            NodeKind::Ephemeral(_) => " (ephemeral)".into(),
        };
        let _ = writeln!(s, "  ephemeralOwner = 0x{:014x}{owner}", st.ephemeral_owner);
        let _ = writeln!(s, "  dataLength = {}", d.as_ref().map_or(0, |b| b.len()));
        let _ = writeln!(s, "  data = {}", data_text(d));
        let _ = writeln!(s, "  acl = {acl}");
    }
    let _ = writeln!(s, "----");
    let _ = writeln!(s, "ACL map (id, acl):");
    for (id, a) in &c.acls {
        let _ = writeln!(s, "{id}, {}", acl_text(a));
    }
    let _ = writeln!(s, "----");
    let _ = writeln!(s, "Session Details (sid, timeout, ephemeralCount):");
    for (id, t) in &c.sessions {
        let eph = c
            .nodes
            .iter()
            .filter(|n| n.3.ephemeral_owner == *id)
            .count();
        let _ = writeln!(s, "0x{id:x}, {t}, {eph}");
    }
    let _ = writeln!(s, "----");
    if let Some(z) = zxid {
        let _ = writeln!(s, "Last zxid: 0x{z:x}");
    }
    if let Some((z, v, d)) = &trailer.digest {
        let _ = writeln!(s, "Digest: zxid 0x{z:x} version {v} digest {d:x}");
    }
    s.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_format() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00.000 UTC");
        assert_eq!(
            format_time(1_700_000_000_123),
            "2023-11-14 22:13:20.123 UTC"
        );
    }
}
