//! Quorum records: ZAB packets on the peer port and the election port's messages.

use crate::codec::Codec;
use crate::data::Id;
use crate::error::{fail, DecodeError, JResult};
use crate::record;
use bytes::{BufMut, Bytes, BytesMut};

record! {
    /// A ZAB packet on the peer port (no length prefix on that stream).
    pub struct QuorumPacket { pub kind: i32, pub zxid: i64, pub data: Option<Bytes>, pub authinfo: Option<Vec<Id>> }
}
record! {
    /// Sent by a learner in FOLLOWERINFO / OBSERVERINFO.
    pub struct LearnerInfo { pub server_id: i64, pub protocol_version: i32, pub config_version: i64 }
}
record! {
    /// Quorum SASL exchange.
    pub struct QuorumAuthPacket { pub magic: i64, pub status: i32, pub token: Option<Bytes> }
}

/// `Leader`'s packet type numbers.
pub mod packet_type {
    pub const REQUEST: i32 = 1;
    pub const PROPOSAL: i32 = 2;
    pub const ACK: i32 = 3;
    pub const COMMIT: i32 = 4;
    pub const PING: i32 = 5;
    pub const REVALIDATE: i32 = 6;
    pub const SYNC: i32 = 7;
    pub const INFORM: i32 = 8;
    pub const COMMITANDACTIVATE: i32 = 9;
    pub const NEWLEADER: i32 = 10;
    pub const FOLLOWERINFO: i32 = 11;
    pub const UPTODATE: i32 = 12;
    pub const DIFF: i32 = 13;
    pub const TRUNC: i32 = 14;
    pub const SNAP: i32 = 15;
    pub const OBSERVERINFO: i32 = 16;
    pub const LEADERINFO: i32 = 17;
    pub const ACKEPOCH: i32 = 18;
    pub const INFORMANDACTIVATE: i32 = 19;
}

impl QuorumPacket {
    /// Stream decode with a bound on the data buffer: a declared length above `max` is an
    /// error before any waiting or allocation (the peer stream has no frame length).
    pub fn decode_limited(i: &[u8], max: usize) -> JResult<'_, QuorumPacket> {
        if let Some(len) = i.get(12..16) {
            let len = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
            if len > 0 && len as usize > max {
                return fail(DecodeError::TooLong {
                    what: "quorum packet data",
                    len: len as i64,
                    max,
                });
            }
        }
        QuorumPacket::decode(i)
    }
}

/// Protocol version a connecting election peer sends first (0xFFFF_FFFF_FFFF_0000).
pub const ELECTION_PROTOCOL_V1: i64 = -65536;
/// Version used when `multiAddress.enabled` (several addresses joined by `|`).
pub const ELECTION_PROTOCOL_V2: i64 = -65535;
/// Longest election address string a peer may send.
pub const MAX_ELECTION_ADDR_LEN: usize = 2048;

/// The first message on an election connection: who is calling and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElectionHello {
    /// A 3.5+ peer: protocol version, its sid, its election address(es).
    Versioned {
        protocol: i64,
        sid: i64,
        addr: String,
    },
    /// An ancient peer that sends only its sid (a first long ≥ 0).
    Bare { sid: i64 },
}

impl Codec for ElectionHello {
    fn decode(i: &[u8]) -> JResult<'_, Self> {
        let (i, first) = i64::decode(i)?;
        if first >= 0 {
            return Ok((i, ElectionHello::Bare { sid: first }));
        }
        if first != ELECTION_PROTOCOL_V1 && first != ELECTION_PROTOCOL_V2 {
            return fail(DecodeError::UnknownValue {
                what: "election protocol version",
                value: first,
            });
        }
        let (i, sid) = i64::decode(i)?;
        let (_, len) = i32::decode(i)?;
        if len <= 0 || len as usize > MAX_ELECTION_ADDR_LEN {
            return fail(DecodeError::TooLong {
                what: "election address",
                len: len as i64,
                max: MAX_ELECTION_ADDR_LEN,
            });
        }
        let (i, addr) = String::decode(i)?;
        Ok((
            i,
            ElectionHello::Versioned {
                protocol: first,
                sid,
                addr,
            },
        ))
    }
    fn encode(&self, out: &mut BytesMut) {
        match self {
            ElectionHello::Bare { sid } => sid.encode(out),
            ElectionHello::Versioned {
                protocol,
                sid,
                addr,
            } => {
                protocol.encode(out);
                sid.encode(out);
                addr.encode(out);
            }
        }
    }
}

/// Largest election message payload a peer may send.
pub const MAX_NOTIFICATION_LEN: usize = 512 * 1024;

/// A FastLeaderElection notification (payload after the int length on the election port).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notification {
    /// 0 LOOKING, 1 FOLLOWING, 2 LEADING, 3 OBSERVING.
    pub state: i32,
    pub leader: i64,
    pub zxid: i64,
    pub election_epoch: i64,
    /// `None` in the 28-byte legacy form (derived from zxid by the receiver).
    pub peer_epoch: Option<i64>,
    /// `None` in the 28/40-byte legacy forms; 2 for current peers.
    pub version: Option<i32>,
    /// Quorum config text (version ≥ 2 only).
    pub config: Bytes,
}

impl Codec for Notification {
    /// Decodes a complete notification payload (28, 40 or 44+n bytes).
    fn decode(i: &[u8]) -> JResult<'_, Self> {
        let (i, state) = i32::decode(i)?;
        let (i, leader) = i64::decode(i)?;
        let (i, zxid) = i64::decode(i)?;
        let (i, election_epoch) = i64::decode(i)?;
        let mut n = Notification {
            state,
            leader,
            zxid,
            election_epoch,
            ..Default::default()
        };
        if i.is_empty() {
            return Ok((i, n));
        }
        let (i, peer_epoch) = i64::decode(i)?;
        n.peer_epoch = Some(peer_epoch);
        if i.is_empty() {
            return Ok((i, n));
        }
        let (i, version) = i32::decode(i)?;
        n.version = Some(version);
        let (i, config) = Bytes::decode(i)?;
        n.config = config;
        Ok((i, n))
    }
    fn encode(&self, out: &mut BytesMut) {
        self.state.encode(out);
        self.leader.encode(out);
        self.zxid.encode(out);
        self.election_epoch.encode(out);
        if let Some(pe) = self.peer_epoch {
            pe.encode(out);
            if let Some(v) = self.version {
                v.encode(out);
                out.put_i32(self.config.len() as i32);
                out.put_slice(&self.config);
            }
        }
    }
}
