//! Golden fixtures captured from a real ZooKeeper 3.8 (jute/tests/fixtures/, see its README):
//! every client and server frame of every captured session must decode with the typed
//! records and re-encode byte-for-byte; the txn log and snapshots written by the real server
//! must decode, re-encode identically and pass their Adler-32 checks.

use bytes::BytesMut;
use jute::consts::{magic, xid, OpCode};
use jute::data::{Acl, StatPersisted};
use jute::file::{adler32, FileHeader, LogRecord};
use jute::proto::*;
use jute::request::{decode_multi_results, encode_multi_results};
use jute::txn::TxnEntry;
use jute::{decode_all, decode_prefix, Codec, Limits, Request};
use std::collections::HashMap;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn files_with(dir: &Path, pred: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("fixtures dir {} unreadable: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(&pred))
        .collect();
    v.sort();
    v
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if !s.len().is_multiple_of(2) {
        return Err(format!("odd hex length {}", s.len()));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| e.to_string()))
        .collect()
}

/// Decodes `bytes` as exactly one `T` and checks that it re-encodes to the same bytes.
fn same<T: Codec + Debug>(bytes: &[u8]) -> Result<(), String> {
    let v: T = decode_all(bytes).map_err(|e| format!("{}: {e}", std::any::type_name::<T>()))?;
    let again = v.to_bytes();
    if again[..] != bytes[..] {
        return Err(format!(
            "{} re-encodes differently: {v:?}",
            std::any::type_name::<T>()
        ));
    }
    Ok(())
}

/// Checks a reply body against the record its request's opcode implies.
fn reply_body(op: OpCode, body: &[u8]) -> Result<(), String> {
    use OpCode as O;
    match op {
        O::Create => same::<CreateResponse>(body),
        O::Create2 | O::CreateContainer | O::CreateTtl => same::<Create2Response>(body),
        O::Exists | O::SetData | O::SetAcl => same::<StatResponse>(body),
        O::GetData | O::Reconfig => same::<GetDataResponse>(body),
        O::GetAcl => same::<GetAclResponse>(body),
        O::GetChildren => same::<GetChildrenResponse>(body),
        O::GetChildren2 => same::<GetChildren2Response>(body),
        O::Sync => same::<SyncResponse>(body),
        O::Sasl => same::<SaslToken>(body),
        O::GetEphemerals => same::<GetEphemeralsResponse>(body),
        O::GetAllChildrenNumber => same::<GetAllChildrenNumberResponse>(body),
        O::AddWatch => same::<ErrorResponse>(body),
        O::WhoAmI => same::<WhoAmIResponse>(body),
        O::Multi | O::MultiRead => {
            let rs = decode_multi_results(body).map_err(|e| format!("multi results: {e}"))?;
            let mut again = BytesMut::new();
            encode_multi_results(&rs, &mut again);
            match again[..] == body[..] {
                true => Ok(()),
                false => Err(format!("multi results re-encode differently: {rs:?}")),
            }
        }
        // Header-only replies.
        _ if body.is_empty() => Ok(()),
        _ => Err(format!(
            "{op:?} reply has an unexpected {}-byte body",
            body.len()
        )),
    }
}

/// Per-session counters.
#[derive(Default, Debug)]
struct Seen {
    requests: usize,
    replies: usize,
    notifications: usize,
    ops: HashMap<OpCode, usize>,
}

/// Checks one client frame after the handshake; returns its opcode.
fn client_frame(f: &[u8], seen: &mut Seen) -> Result<(i32, OpCode), String> {
    let (h, body) = decode_prefix::<RequestHeader>(f).map_err(|e| format!("header: {e}"))?;
    let op = OpCode::try_from(h.op).map_err(|e| e.to_string())?;
    let special = match h.xid {
        xid::PING => Some(OpCode::Ping),
        xid::AUTH => Some(OpCode::Auth),
        xid::SET_WATCHES => Some(OpCode::SetWatches),
        _ => None,
    };
    if let Some(want) = special {
        if op != want && !(want == OpCode::SetWatches && op == OpCode::SetWatches2) {
            return Err(format!("xid {} carries {op:?}", h.xid));
        }
    }
    let req = Request::decode(h.op, body).map_err(|e| format!("{op:?} request: {e}"))?;
    let mut again = BytesMut::new();
    h.encode(&mut again);
    req.encode(&mut again);
    if again[..] != f[..] {
        return Err(format!("{op:?} request re-encodes differently: {req:?}"));
    }
    *seen.ops.entry(op).or_default() += 1;
    seen.requests += 1;
    Ok((h.xid, op))
}

/// Checks one server frame after the handshake, using the xid → opcode map.
fn server_frame(f: &[u8], pending: &HashMap<i32, OpCode>, seen: &mut Seen) -> Result<(), String> {
    let (h, body) = decode_prefix::<ReplyHeader>(f).map_err(|e| format!("header: {e}"))?;
    if h.xid == xid::NOTIFICATION {
        seen.notifications += 1;
        return same::<WatcherEvent>(body);
    }
    // Special xids (ping -2, auth -4, setWatches -8) repeat, so entries are kept.
    let op = *pending
        .get(&h.xid)
        .ok_or(format!("reply to unknown xid {}", h.xid))?;
    seen.replies += 1;
    match h.err {
        0 => reply_body(op, body),
        _ if body.is_empty() => Ok(()),
        e => Err(format!(
            "{op:?} error {e} reply has a {}-byte body",
            body.len()
        )),
    }
}

/// Checks a whole captured connection. The capture interleaves the two directions only
/// approximately (a reply may precede its request line), so all client frames are checked
/// first to learn each xid's opcode, then all server frames.
fn session(text: &str) -> Result<Seen, String> {
    let mut seen = Seen::default();
    let mut pending = HashMap::new();
    let mut frames = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (dir, hex) = line
            .split_once(' ')
            .ok_or(format!("line {}: bad line", n + 1))?;
        let f = unhex(hex.trim()).map_err(|e| format!("line {}: {e}", n + 1))?;
        frames.push((n + 1, dir.to_string(), f));
    }
    for want in ["C", "S"] {
        let mut first = true;
        for (n, dir, f) in frames.iter().filter(|(_, d, _)| d == want) {
            let r = match (dir.as_str(), first) {
                ("C", true) => same::<ConnectRequest>(f),
                ("S", true) => same::<ConnectResponse>(f),
                ("C", false) => client_frame(f, &mut seen).map(|(x, op)| {
                    pending.insert(x, op);
                }),
                (_, false) => server_frame(f, &pending, &mut seen),
                _ => unreachable!(),
            };
            first = false;
            r.map_err(|e| format!("line {n} ({dir}): {e}"))?;
        }
    }
    if let Some((n, d, _)) = frames.iter().find(|(_, d, _)| d != "C" && d != "S") {
        return Err(format!("line {n}: unknown direction {d:?}"));
    }
    if !frames.iter().any(|(_, d, _)| d == "C") {
        return Err("no ConnectRequest".into());
    }
    Ok(seen)
}

#[test]
fn wire_fixtures_decode_and_reencode_byte_for_byte() {
    let files = files_with(&fixtures(), |n| n.ends_with(".frames"));
    assert!(
        !files.is_empty(),
        "no *.frames fixtures in {}",
        fixtures().display()
    );
    let (mut failures, mut frames) = (Vec::new(), 0);
    let mut ops: HashMap<OpCode, usize> = HashMap::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        match session(&std::fs::read_to_string(f).unwrap()) {
            Ok(s) => {
                println!(
                    "{name}: {} requests, {} replies, {} notifications",
                    s.requests, s.replies, s.notifications
                );
                frames += 2 + s.requests + s.replies + s.notifications;
                for (op, n) in s.ops {
                    *ops.entry(op).or_default() += n;
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    let mut ops: Vec<_> = ops.into_iter().collect();
    ops.sort();
    println!(
        "{} files, {frames} frames; requests by opcode: {ops:?}",
        files.len()
    );
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
    assert!(frames > 0, "fixtures held no frames");
}

#[test]
fn txn_log_fixture_decodes_and_checksums() {
    let logs = files_with(&fixtures().join("disk"), |n| n.starts_with("log."));
    assert!(!logs.is_empty(), "no disk/log.* fixture");
    for path in logs {
        let bytes = std::fs::read(&path).unwrap();
        let (h, mut rest) = decode_prefix::<FileHeader>(&bytes).unwrap();
        assert_eq!(h, FileHeader::txn_log(), "{}", path.display());
        let first_zxid = i64::from_str_radix(path.extension().unwrap().to_str().unwrap(), 16);
        let mut entries: Vec<TxnEntry> = Vec::new();
        while !rest.is_empty() {
            let (next, rec) = match LogRecord::decode(rest, Limits::default()) {
                Ok(r) => r,
                Err(e) => panic!("{} entry {}: {e:?}", path.display(), entries.len()),
            };
            let Some(rec) = rec else { break };
            rest = next;
            assert!(rec.checksum_ok(), "entry {} checksum", entries.len());
            assert_eq!(rec.checksum, adler::adler32_slice(rec.entry) as i64);
            let e = TxnEntry::decode_complete(rec.entry)
                .unwrap_or_else(|err| panic!("entry {}: {err}", entries.len()));
            let mut again = BytesMut::new();
            e.encode(&mut again);
            assert_eq!(
                &again[..],
                rec.entry,
                "entry {} re-encodes differently: {e:?}",
                entries.len()
            );
            if let Some(prev) = entries.last() {
                assert!(e.header.zxid > prev.header.zxid, "zxids must increase");
            }
            entries.push(e);
        }
        assert!(
            rest.iter().all(|b| *b == 0),
            "only zero padding may follow the last entry"
        );
        assert!(!entries.is_empty(), "{} holds no entries", path.display());
        assert_eq!(
            Ok(entries[0].header.zxid),
            first_zxid,
            "log name = first zxid"
        );
        let mut kinds: Vec<i32> = entries.iter().map(|e| e.header.kind).collect();
        kinds.sort();
        kinds.dedup();
        println!(
            "{}: {} entries, types {kinds:?}",
            path.display(),
            entries.len()
        );
    }
}

/// Walks a snapshot's payload with the jute records and checks its Adler-32 seal.
fn snapshot(bytes: &[u8]) -> Result<usize, String> {
    let e = |e: jute::DecodeError| e.to_string();
    let (h, mut i) = decode_prefix::<FileHeader>(bytes).map_err(e)?;
    if h != FileHeader::snapshot() || h.magic != magic::SNAPSHOT {
        return Err(format!("bad header {h:?}"));
    }
    let (sessions, rest) = decode_prefix::<i32>(i).map_err(e)?;
    i = rest;
    for _ in 0..sessions {
        let (_, rest) = decode_prefix::<(i64, i32)>(i).map_err(e)?;
        i = rest;
    }
    let (acls, rest) = decode_prefix::<i32>(i).map_err(e)?;
    i = rest;
    for _ in 0..acls {
        let (_, rest) = decode_prefix::<(i64, Vec<Acl>)>(i).map_err(e)?;
        i = rest;
    }
    let mut nodes = 0;
    loop {
        let (path, rest) = decode_prefix::<String>(i).map_err(e)?;
        i = rest;
        if path == "/" {
            break;
        }
        let (_, rest) =
            decode_prefix::<(Option<bytes::Bytes>, i64, StatPersisted)>(i).map_err(e)?;
        i = rest;
        nodes += 1;
    }
    let sealed = bytes.len() - i.len();
    let (seal, _) = decode_prefix::<i64>(i).map_err(e)?;
    if seal != adler32(&bytes[..sealed]) as i64 {
        return Err(format!(
            "seal {seal:#x} != adler32 of the first {sealed} bytes"
        ));
    }
    Ok(nodes)
}

#[test]
fn snapshot_fixtures_decode_and_checksum() {
    let snaps = files_with(&fixtures().join("disk"), |n| n.starts_with("snapshot."));
    assert!(!snaps.is_empty(), "no disk/snapshot.* fixture");
    for path in snaps {
        let nodes = snapshot(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(nodes >= 3, "root, /zookeeper, /zookeeper/quota at least");
        println!("{}: {nodes} nodes", path.display());
    }
}
