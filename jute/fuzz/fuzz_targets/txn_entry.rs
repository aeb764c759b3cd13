//! Txn-log records and txn entries (log bodies, PROPOSAL payloads).
#![no_main]

use bytes::BytesMut;
use jute::file::LogRecord;
use jute::txn::TxnEntry;
use jute::Limits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(e) = TxnEntry::decode_complete(data) {
        let mut b = BytesMut::new();
        e.encode(&mut b);
        assert_eq!(TxnEntry::decode_complete(&b), Ok(e));
    }
    let _ = LogRecord::decode(data, Limits::new(1 << 16));
});
