//! Client-port frames: length prefix, then ConnectRequest, or RequestHeader + typed body.
//! Anything that decodes must re-encode to a value that decodes the same.
#![no_main]

use bytes::BytesMut;
use jute::proto::{ConnectRequest, RequestHeader};
use jute::{decode_all, decode_prefix, frame, Codec, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(Some(n)) = frame::complete_frame(data, 1 << 16) else {
        return;
    };
    let body = &data[frame::LEN_PREFIX..frame::LEN_PREFIX + n];
    if let Ok(c) = decode_all::<ConnectRequest>(body) {
        assert_eq!(decode_all::<ConnectRequest>(&c.to_bytes()), Ok(c));
    }
    if let Ok((h, rest)) = decode_prefix::<RequestHeader>(body) {
        if let Ok(r) = Request::decode(h.op, rest) {
            let mut b = BytesMut::new();
            r.encode(&mut b);
            assert_eq!(Request::decode(h.op, &b), Ok(r));
        }
    }
});
