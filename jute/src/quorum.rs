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
    /// Stream decode bounded by `max` (`jute.maxbuffer`): the peer stream has no frame
    /// length, so a declared data / authinfo length that would take the packet past `max`
    /// bytes is a [`DecodeError::TooLong`] failure at once, before any waiting or allocation.
    pub fn decode_limited(i: &[u8], max: usize) -> JResult<'_, QuorumPacket> {
        crate::codec::Limits::new(max).decode(i)
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
    /// `None` only in the 28-byte form (then `peer_epoch` is `None` too); 1 from 3.4
    /// peers (40 bytes), 2 for current peers (44 + n bytes).
    pub version: Option<i32>,
    /// Quorum config text; on the wire only when `version > 1` (empty otherwise).
    pub config: Bytes,
}

impl Notification {
    /// Whether a notification of this version carries the config field (as Java decides).
    fn has_config(version: Option<i32>) -> bool {
        matches!(version, Some(v) if v > 1)
    }
}

impl Codec for Notification {
    /// Decodes a complete notification payload like `FastLeaderElection` does: exactly 28
    /// bytes = no peerEpoch; otherwise peerEpoch and a version word, then (unless the payload
    /// is exactly 40 bytes, a 3.4 peer) a length-prefixed config iff version > 1. Any other
    /// short form (e.g. 36 bytes) is truncated. Bytes after the config are left unread.
    fn decode(i: &[u8]) -> JResult<'_, Self> {
        let total = i.len();
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
        if total == 28 {
            return Ok((i, n));
        }
        let (i, peer_epoch) = i64::decode(i)?;
        n.peer_epoch = Some(peer_epoch);
        let (i, version) = i32::decode(i)?;
        // Java ignores the version word of a 40-byte (3.4) message: no config follows, so
        // anything above 1 there reads as 1 (and a 40-byte form never aliases a 44-byte one).
        if total == 40 {
            n.version = Some(version.min(1));
            return Ok((i, n));
        }
        n.version = Some(version);
        if !Notification::has_config(n.version) {
            return Ok((i, n));
        }
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
                if Notification::has_config(self.version) {
                    out.put_i32(self.config.len() as i32);
                    out.put_slice(&self.config);
                }
            }
        }
    }
    const MIN_SIZE: usize = 28;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::decode_all;

    #[test]
    fn notification_forms() {
        let mut n = Notification {
            state: 0,
            leader: 1,
            zxid: 2,
            election_epoch: 3,
            ..Default::default()
        };
        assert_eq!(n.to_bytes().len(), 28);
        assert_eq!(decode_all::<Notification>(&n.to_bytes()), Ok(n.clone()));
        n.peer_epoch = Some(4);
        assert_eq!(n.to_bytes().len(), 36);
        // A 36-byte payload is neither legacy form: Java reads a version and underflows.
        assert!(decode_all::<Notification>(&n.to_bytes()).is_err());
        n.version = Some(1);
        assert_eq!(n.to_bytes().len(), 40);
        assert_eq!(decode_all::<Notification>(&n.to_bytes()), Ok(n.clone()));
        let mut forty = n.to_bytes().to_vec();
        forty[36..40].copy_from_slice(&2i32.to_be_bytes());
        assert_eq!(decode_all::<Notification>(&forty), Ok(n.clone()));
        n.version = Some(2);
        n.config = Bytes::from_static(b"server.1=a:1:2");
        assert_eq!(n.to_bytes().len(), 44 + 14);
        assert_eq!(decode_all::<Notification>(&n.to_bytes()), Ok(n));
    }

    #[test]
    fn commit_packet_vector() {
        let p = QuorumPacket {
            kind: packet_type::COMMIT,
            zxid: 0x1_0000_0005,
            data: None,
            authinfo: None,
        };
        let b = p.to_bytes();
        assert_eq!(b.len(), 20);
        assert_eq!(&b[12..], &[0xff; 8]);
        assert_eq!(QuorumPacket::decode_limited(&b, 20).map(|r| r.1), Ok(p));
    }

    #[test]
    fn quorum_packet_limit_applies_before_data_arrives() {
        let mut b = BytesMut::new();
        b.put_i32(packet_type::PROPOSAL);
        b.put_i64(1);
        b.put_i32(2_000_000);
        assert!(matches!(
            QuorumPacket::decode_limited(&b, 1_048_575),
            Err(nom::Err::Failure(DecodeError::TooLong { .. }))
        ));
        assert!(matches!(
            QuorumPacket::decode(&b),
            Err(nom::Err::Incomplete(_))
        ));
    }
}
