//! QuorumPacket on the unframed peer stream, bounded by jute.maxbuffer.
#![no_main]

use jute::quorum::QuorumPacket;
use jute::Codec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((rest, p)) = QuorumPacket::decode_limited(data, 1 << 16) {
        assert!(data.len() - rest.len() <= 1 << 16);
        assert_eq!(QuorumPacket::decode(&p.to_bytes()).map(|r| r.1), Ok(p));
    }
});
