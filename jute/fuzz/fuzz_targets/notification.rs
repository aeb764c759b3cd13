//! Election port: the connection handshake and FastLeaderElection notifications.
#![no_main]

use jute::quorum::{ElectionHello, Notification};
use jute::{decode_all, Codec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(n) = decode_all::<Notification>(data) {
        assert_eq!(decode_all::<Notification>(&n.to_bytes()), Ok(n));
    }
    let _ = ElectionHello::decode(data);
});
