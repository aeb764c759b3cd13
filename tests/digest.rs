//! ZooKeeper's tree digest (PROTOCOL.md §6.4) against the oracle: the TxnDigests the real
//! ZooKeeper 3.8.0 wrote into `log.1` (replayed from `snapshot.0`) and the ZxidDigest in
//! its `snapshot.69`.

use rzk::persist::logfile;
use rzk::persist::recovery::{self, apply_txn};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("jute/tests/fixtures/disk")
}

#[test]
fn replaying_zookeepers_log_reproduces_every_logged_digest() {
    let (mut tree, mut sessions) =
        recovery::load_snapshot(&fixtures().join("snapshot.0"), 0).unwrap();
    assert_eq!(tree.digest(), rzk::tree::DataTree::new().digest());
    let bytes = std::fs::read(fixtures().join("log.1")).unwrap();
    let scan = logfile::scan(&bytes);
    assert_eq!(scan.entries.len(), 105);
    let mut triggers = Vec::new();
    let mut checked = 0;
    for (_, e) in &scan.entries {
        apply_txn(&mut tree, &mut sessions, e, &mut triggers);
        match &e.digest {
            Some(d) => {
                assert_eq!(d.version, 2);
                assert_eq!(
                    d.tree_digest,
                    tree.digest(),
                    "zxid 0x{:x} type {}",
                    e.header.zxid,
                    e.header.kind
                );
                checked += 1;
            }
            // ZooKeeper writes no digest for error txns.
            None => assert_eq!(e.header.kind, -1, "zxid 0x{:x}", e.header.zxid),
        }
    }
    assert_eq!(checked, 92);
    assert_eq!(tree.digest_mismatches, 0);
    // The snapshot ZooKeeper took at 0x69 carries the same pair.
    let (zk, _) = recovery::load_snapshot(&fixtures().join("snapshot.69"), 0x69).unwrap();
    assert_eq!(zk.digest(), tree.digest());
    assert_eq!(format!("{:x}", tree.digest()), "108fa20dc7");
    let _: HashMap<i64, u32> = sessions;
}

use bytes::Bytes;
use jute::data::Acl;
use jute::proto::SetDataRequest;
use jute::proto::{CheckVersionRequest, CreateRequest, CreateTtlRequest, DeleteRequest};
use jute::request::MultiOp;
use jute::txn::{TxnBody, TxnDigest, TxnEntry, TxnHeader};
use jute::{Code, OpCode};
use rzk::processor::apply::Applier;
use rzk::processor::prep::{Outstanding, Prep};
use rzk::tree::DataTree;
use std::collections::VecDeque;

fn create_req(path: &str, data: &Option<Bytes>, acl: &[Acl], flags: i32) -> CreateRequest {
    CreateRequest {
        path: path.to_owned(),
        data: data.clone(),
        acl: acl.to_vec(),
        flags,
    }
}

/// The multi op that prepares into this (successful) sub-txn.
fn multi_op_of(kind: i32, body: &TxnBody) -> MultiOp {
    match body {
        TxnBody::Create(t) => MultiOp::Create(
            OpCode::try_from(kind).unwrap(),
            create_req(&t.path, &t.data, &t.acl, t.ephemeral as i32),
        ),
        TxnBody::CreateContainer(t) => MultiOp::Create(
            OpCode::CreateContainer,
            create_req(&t.path, &t.data, &t.acl, 4),
        ),
        TxnBody::CreateTtl(t) => MultiOp::CreateTtl(CreateTtlRequest {
            path: t.path.clone(),
            data: t.data.clone(),
            acl: t.acl.clone(),
            flags: 5,
            ttl: t.ttl,
        }),
        TxnBody::Delete(t) => MultiOp::Delete(DeleteRequest {
            path: t.path.clone(),
            version: -1,
        }),
        TxnBody::SetData(t) => MultiOp::SetData(SetDataRequest {
            path: t.path.clone(),
            data: t.data.clone(),
            version: -1,
        }),
        TxnBody::Check(t) => MultiOp::Check(CheckVersionRequest {
            path: t.path.clone(),
            version: -1,
        }),
        b => panic!("no multi op for {b:?}"),
    }
}

/// Prepares the request a logged txn was made from (sequence suffixes already in the
/// path, versions unconditional); `None` for txns that cannot be rebuilt (error txns,
/// failed multis: the failing op is not in the log).
fn prep_like(p: &mut Prep, kind: i32, body: &TxnBody) -> Option<Result<TxnBody, Code>> {
    let op = OpCode::try_from(kind).ok()?;
    Some(match body {
        TxnBody::Create(t) => p
            .create(
                op,
                &create_req(&t.path, &t.data, &t.acl, t.ephemeral as i32),
                -1,
            )
            .map(|(b, _)| b),
        TxnBody::CreateContainer(t) => p
            .create(op, &create_req(&t.path, &t.data, &t.acl, 4), -1)
            .map(|(b, _)| b),
        TxnBody::CreateTtl(t) => p
            .create(op, &create_req(&t.path, &t.data, &t.acl, 5), t.ttl)
            .map(|(b, _)| b),
        TxnBody::Delete(t) => p.delete(&t.path, -1, op == OpCode::DeleteContainer),
        TxnBody::SetData(t) => p.set_data(&t.path, t.data.clone(), -1),
        TxnBody::SetAcl(t) => p.set_acl(&t.path, &t.acl, -1),
        TxnBody::CloseSession(_) => Ok(p.close_session()),
        TxnBody::CreateSession(_) => Ok(body.clone()),
        TxnBody::Multi(subs) if subs.iter().all(|s| s.kind != -1) => {
            let ops: Vec<MultiOp> = subs.iter().map(|s| multi_op_of(s.kind, &s.body)).collect();
            Ok(p.multi(&ops))
        }
        _ => return None,
    })
}

/// Every logged txn of ZooKeeper's log.1, rebuilt as a request and prepared while all the
/// earlier ones are still outstanding (none applied), yields ZooKeeper's txn and digest;
/// applying them then walks the tree through the same digests.
#[test]
fn prepared_digests_match_zookeepers_log() {
    let (mut tree, _) = recovery::load_snapshot(&fixtures().join("snapshot.0"), 0).unwrap();
    let bytes = std::fs::read(fixtures().join("log.1")).unwrap();
    let scan = logfile::scan(&bytes);
    let mut out = Outstanding::default();
    let mut touched = Vec::new();
    let mut rebuilt = 0;
    for (_, e) in &scan.entries {
        let h = &e.header;
        let mut p = Prep::new(&tree, &mut out, &[], h.client_id, h.zxid, h.time);
        p.extended_types = true;
        p.skip_acl = true;
        let r = prep_like(&mut p, h.kind, &e.body);
        let paths = match &r {
            Some(Ok(body)) => {
                // ZooKeeper lists a closed session's ephemerals in HashSet order.
                let sorted = |b: &TxnBody| match b {
                    TxnBody::CloseSession(Some(c)) => {
                        let mut c = c.clone();
                        c.paths_to_delete.sort();
                        TxnBody::CloseSession(Some(c))
                    }
                    b => b.clone(),
                };
                assert_eq!(sorted(body), sorted(&e.body), "zxid 0x{:x}", h.zxid);
                rebuilt += 1;
                p.commit()
            }
            Some(Err(c)) => panic!("zxid 0x{:x}: {c:?}", h.zxid),
            None => Vec::new(),
        };
        touched.push(paths);
        if let Some(d) = &e.digest {
            assert_eq!(d.tree_digest, out.digest(&tree), "zxid 0x{:x}", h.zxid);
        }
    }
    assert!(rebuilt > 85, "{rebuilt}");
    let mut triggers = Vec::new();
    for ((_, e), paths) in scan.entries.iter().zip(&touched) {
        Applier {
            tree: &mut tree,
            want_triggers: false,
            triggers: &mut triggers,
        }
        .apply(&e.header, e.header.kind, &e.body);
        out.applied(e.header.zxid, paths);
        if let Some(d) = &e.digest {
            assert_eq!(d.tree_digest, tree.digest());
        }
    }
    assert!(out.is_empty());
    assert_eq!(out.digest(&tree), tree.digest());
}

/// The tree digest recomputed from scratch: over every node's path, data and stat, not
/// from the CRC each node keeps of its path and data.
fn full_digest(t: &DataTree) -> i64 {
    t.iter().fold(0u64, |a, (p, n)| {
        let fresh = rzk::tree::node_digest(&p, n.data(), &n.stat);
        assert_eq!(fresh, n.digest(&p), "the kept CRC of {p} is stale");
        a.wrapping_add(fresh)
    }) as i64
}

/// One generated write.
#[derive(Debug, Clone)]
enum W {
    Create {
        op: u8,
        path: u8,
        flags: u8,
        data: u8,
        acl: bool,
    },
    Delete {
        path: u8,
        version: i8,
    },
    DeleteContainer {
        path: u8,
    },
    SetData {
        path: u8,
        data: u8,
        version: i8,
    },
    SetAcl {
        path: u8,
        acl: bool,
        version: i8,
    },
    Check {
        path: u8,
        version: i8,
    },
    Multi(Vec<W>),
    CloseSession,
}

const PATHS: [&str; 8] = [
    "/a",
    "/a/b",
    "/a/c",
    "/b",
    "/b/d",
    "/a/b/e",
    "/zookeeper/q",
    "/",
];

fn data_of(d: u8) -> Option<Bytes> {
    match d % 4 {
        0 => None,
        1 => Some(Bytes::new()),
        // Some values past the size the digest hashes in one contiguous piece.
        3 if d % 8 == 7 => Some(Bytes::from(vec![d; 600])),
        n => Some(Bytes::from(vec![d; n as usize * 3])),
    }
}

fn acl_of(read_only: bool) -> Vec<Acl> {
    if read_only {
        Acl::read_only()
    } else {
        Acl::open()
    }
}

fn multi_op(w: &W) -> Option<MultiOp> {
    Some(match w {
        W::Create {
            op,
            path,
            flags,
            data,
            acl,
        } => {
            let r = create_req(
                PATHS[*path as usize % 8],
                &data_of(*data),
                &acl_of(*acl),
                *flags as i32 % 4,
            );
            match op % 3 {
                0 => MultiOp::Create(OpCode::Create, r),
                1 => MultiOp::Create(OpCode::Create2, r),
                _ => MultiOp::Create(OpCode::CreateContainer, CreateRequest { flags: 4, ..r }),
            }
        }
        W::Delete { path, version } => MultiOp::Delete(DeleteRequest {
            path: PATHS[*path as usize % 8].into(),
            version: *version as i32,
        }),
        W::SetData {
            path,
            data,
            version,
        } => MultiOp::SetData(SetDataRequest {
            path: PATHS[*path as usize % 8].into(),
            data: data_of(*data),
            version: *version as i32,
        }),
        W::Check { path, version } => MultiOp::Check(CheckVersionRequest {
            path: PATHS[*path as usize % 8].into(),
            version: *version as i32,
        }),
        _ => return None,
    })
}

/// Prepares one write as the core does; `Err` becomes an error txn.
fn prepare(p: &mut Prep, w: &W) -> Result<(OpCode, TxnBody), Code> {
    match w {
        W::Create {
            op,
            path,
            flags,
            data,
            acl,
        } => {
            let path = PATHS[*path as usize % 8];
            let (op, flags, ttl) = match op % 4 {
                0 => (OpCode::Create, *flags as i32 % 4, -1),
                1 => (OpCode::Create2, *flags as i32 % 4, -1),
                2 => (OpCode::CreateContainer, 4, -1),
                _ => (OpCode::CreateTtl, 5 + *flags as i32 % 2, 1000),
            };
            p.create(
                op,
                &create_req(path, &data_of(*data), &acl_of(*acl), flags),
                ttl,
            )
            .map(|(b, _)| (op, b))
        }
        W::Delete { path, version } => p
            .delete(PATHS[*path as usize % 8], *version as i32, false)
            .map(|b| (OpCode::Delete, b)),
        W::DeleteContainer { path } => p
            .delete(PATHS[*path as usize % 8], -1, true)
            .map(|b| (OpCode::DeleteContainer, b)),
        W::SetData {
            path,
            data,
            version,
        } => p
            .set_data(PATHS[*path as usize % 8], data_of(*data), *version as i32)
            .map(|b| (OpCode::SetData, b)),
        W::SetAcl { path, acl, version } => p
            .set_acl(PATHS[*path as usize % 8], &acl_of(*acl), *version as i32)
            .map(|b| (OpCode::SetAcl, b)),
        W::Check { .. } => Err(Code::Unimplemented),
        W::Multi(ws) => {
            let ops: Vec<MultiOp> = ws.iter().filter_map(multi_op).collect();
            Ok((OpCode::Multi, p.multi(&ops)))
        }
        W::CloseSession => Ok((OpCode::CloseSession, p.close_session())),
    }
}

fn write() -> impl proptest::strategy::Strategy<Value = W> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        4 => (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>(), proptest::bool::weighted(0.1))
            .prop_map(|(op, path, flags, data, acl)| W::Create { op, path, flags, data, acl }),
        2 => (any::<u8>(), -1i8..2).prop_map(|(path, version)| W::Delete { path, version }),
        1 => any::<u8>().prop_map(|path| W::DeleteContainer { path }),
        3 => (any::<u8>(), any::<u8>(), -1i8..3)
            .prop_map(|(path, data, version)| W::SetData { path, data, version }),
        1 => (any::<u8>(), proptest::bool::weighted(0.2), -1i8..2)
            .prop_map(|(path, acl, version)| W::SetAcl { path, acl, version }),
        1 => (any::<u8>(), -1i8..2).prop_map(|(path, version)| W::Check { path, version }),
        1 => Just(W::CloseSession),
    ];
    prop_oneof![
        6 => leaf.clone(),
        1 => proptest::collection::vec(leaf, 1..5).prop_map(W::Multi),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    /// Random writes (every kind, multis, failures, closeSession, from 3 sessions) are
    /// prepared while up to `lag` earlier ones are still unapplied; after applying each,
    /// the tree digest equals the digest prepared for it, and equals a full recount.
    #[test]
    fn prepared_digest_equals_digest_after_apply(
        steps in proptest::collection::vec((write(), 1i64..4, 0usize..4), 1..60)
    ) {
        let mut tree = DataTree::new();
        let mut out = Outstanding::default();
        let mut queue: VecDeque<(TxnEntry, Vec<String>)> = VecDeque::new();
        let mut triggers = Vec::new();
        let mut zxid = 0i64;
        let mut apply_one = |tree: &mut DataTree, out: &mut Outstanding,
                             queue: &mut VecDeque<(TxnEntry, Vec<String>)>| {
            let Some((e, paths)) = queue.pop_front() else { return };
            Applier { tree: &mut *tree, want_triggers: false, triggers: &mut triggers }
                .apply(&e.header, e.header.kind, &e.body);
            tree.last_processed_zxid = e.header.zxid;
            out.applied(e.header.zxid, &paths);
            if let Some(d) = &e.digest {
                assert_eq!(d.tree_digest, tree.digest(), "after {e:?}");
            }
            assert!(tree.check_digest(e.header.zxid, &TxnDigest { version: 2, tree_digest: tree.digest() }));
        };
        for (w, session, lag) in &steps {
            zxid += 1;
            let time = 1_000_000 + zxid * 7;
            let mut p = Prep::new(&tree, &mut out, &[], *session, zxid, time);
            p.extended_types = true;
            let r = prepare(&mut p, w);
            let (kind, body, paths, digest) = match r {
                Ok((k, b)) => {
                    let paths = p.commit();
                    (k, b, paths, Some(TxnDigest { version: 2, tree_digest: out.digest(&tree) }))
                }
                Err(c) => (OpCode::Error, TxnBody::Error(jute::txn::ErrorTxn { err: c.code() }), Vec::new(), None),
            };
            let header = TxnHeader { client_id: *session, cxid: 0, zxid, time, kind: kind.code() };
            queue.push_back((TxnEntry { header, body, digest }, paths));
            while queue.len() > *lag {
                apply_one(&mut tree, &mut out, &mut queue);
            }
        }
        while !queue.is_empty() {
            apply_one(&mut tree, &mut out, &mut queue);
        }
        proptest::prop_assert!(out.is_empty());
        proptest::prop_assert_eq!(tree.digest(), full_digest(&tree));
        proptest::prop_assert_eq!(tree.digest_mismatches, 0);
    }
}

fn temp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rzk-digest-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("version-2")).unwrap();
    d
}

/// Recovery from ZooKeeper's files compares the digests as ZooKeeper does and finds none
/// wrong; the snapshot rzk then writes carries the (zxid, digest) pair after seal #1.
#[test]
fn recovery_checks_digests_and_snapshots_carry_zxid_digest() {
    let d = temp("recover");
    for f in ["snapshot.0", "log.1"] {
        std::fs::copy(fixtures().join(f), d.join("version-2").join(f)).unwrap();
    }
    let o = recovery::RecoveryOptions {
        snap_dir: d.join("version-2"),
        log_dir: d.join("version-2"),
        trust_empty: false,
        fsync: false,
        write_snapshot: false,
    };
    let rec = recovery::recover(&o).unwrap();
    assert_eq!(rec.tree.last_processed_zxid, 0x69);
    assert_eq!(rec.tree.digest_mismatches, 0);
    let p =
        rzk::persist::snapshot::write_full(&d.join("version-2"), &rec.tree, &[], false).unwrap();
    let (t, _, zd) = recovery::load_snapshot_digest(&p, 0x69).unwrap();
    assert_eq!(zd, Some((0x69, 2, rec.tree.digest())));
    assert_eq!(t.digest(), rec.tree.digest());
    // ZooKeeper's own snapshot.69: digest zxid == snapshot zxid, compared at load.
    let (mut zk, _, zd) =
        recovery::load_snapshot_digest(&fixtures().join("snapshot.69"), 0x69).unwrap();
    recovery::DigestCheck::new(&mut zk, zd);
    assert_eq!(zk.digest_mismatches, 0);
    // A wrong pair is reported (counted), not fatal.
    recovery::DigestCheck::new(&mut zk, Some((0x69, 2, 12345)));
    assert_eq!(zk.digest_mismatches, 1);
    std::fs::remove_dir_all(&d).unwrap();
}

/// During replay the snapshot's digest is compared when its zxid is replayed; logged
/// digests only from then on (the tree is fuzzy before).
#[test]
fn replay_compares_snapshot_digest_at_its_zxid() {
    let (mut tree, mut sessions) =
        recovery::load_snapshot(&fixtures().join("snapshot.0"), 0).unwrap();
    let bytes = std::fs::read(fixtures().join("log.1")).unwrap();
    let scan = logfile::scan(&bytes);
    // A made-up pair at 0x10 with a wrong digest: one mismatch, then logged digests match.
    let mut check = recovery::DigestCheck::new(&mut tree, Some((0x10, 2, 1)));
    let mut triggers = Vec::new();
    for (_, e) in &scan.entries {
        apply_txn(&mut tree, &mut sessions, e, &mut triggers);
        check.after_txn(&mut tree, e);
    }
    assert_eq!(tree.digest_mismatches, 1);
    // A corrupted logged digest is counted too.
    let (mut tree, mut sessions) =
        recovery::load_snapshot(&fixtures().join("snapshot.0"), 0).unwrap();
    let mut check = recovery::DigestCheck::new(&mut tree, None);
    for (i, (_, e)) in scan.entries.iter().enumerate() {
        let mut e = e.clone();
        if i == 7 {
            e.digest.as_mut().unwrap().tree_digest ^= 1;
        }
        apply_txn(&mut tree, &mut sessions, &e, &mut triggers);
        check.after_txn(&mut tree, &e);
    }
    assert_eq!(tree.digest_mismatches, 1);
}
