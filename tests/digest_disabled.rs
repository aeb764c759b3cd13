//! `digest.enabled=false` (process-wide, as ZooKeeper's flag; hence its own test binary):
//! snapshots carry no ZxidDigest, recovery compares nothing.

use rzk::persist::recovery;
use rzk::tree::DataTree;

#[test]
fn disabled_digest_writes_no_zxid_digest() {
    rzk::tree::set_digest_enabled(false);
    let d = std::env::temp_dir().join(format!("rzk-nodigest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let mut t = DataTree::new();
    t.last_processed_zxid = 5;
    let p = rzk::persist::snapshot::write_full(&d, &t, &[], false).unwrap();
    let (mut t2, _, zd) = recovery::load_snapshot_digest(&p, 5).unwrap();
    assert_eq!(zd, None);
    recovery::DigestCheck::new(&mut t2, Some((5, 2, 1)));
    assert_eq!(t2.digest_mismatches, 0);
    std::fs::remove_dir_all(&d).unwrap();
}
