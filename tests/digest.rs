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
