//! The jute primitive encodings and the [`Codec`] trait every record implements.
//!
//! Decoders are nom *streaming* parsers: when the input ends early they return
//! `nom::Err::Incomplete`, so a caller reading a stream can wait for more bytes. Callers
//! that hold a whole frame use [`decode_all`], which turns "incomplete" into
//! [`DecodeError::Truncated`]. Lengths are validated before anything is allocated: a
//! negative length (other than -1 = null) is an error, and vectors reserve at most as many
//! elements as the remaining bytes could hold.

use crate::error::{fail, DecodeError, JResult};
use bytes::{BufMut, Bytes, BytesMut};
use nom::number::streaming::{be_i32, be_i64, be_u8};
use nom::Needed;

/// A value with a jute wire encoding.
pub trait Codec: Sized {
    /// Decodes one value from the front of `i` (streaming: may return Incomplete).
    fn decode(i: &[u8]) -> JResult<'_, Self>;
    /// Appends the encoding of `self` to `out`.
    fn encode(&self, out: &mut BytesMut);
    /// Smallest possible encoded size, used to bound vector pre-allocation.
    const MIN_SIZE: usize = 1;

    /// Encodes into a fresh buffer (convenience for tests and cold paths).
    fn to_bytes(&self) -> Bytes {
        let mut b = BytesMut::new();
        self.encode(&mut b);
        b.freeze()
    }
}

/// Decodes a value that must occupy exactly `input` (a whole frame or sub-buffer).
pub fn decode_all<T: Codec>(input: &[u8]) -> Result<T, DecodeError> {
    match T::decode(input) {
        Ok(([], v)) => Ok(v),
        Ok((rest, _)) => Err(DecodeError::TrailingBytes(rest.len())),
        Err(e) => Err(finish_err(e)),
    }
}

/// Decodes a value from the front of a complete buffer, returning it and the rest.
/// Unlike [`Codec::decode`], running out of input is an error, not "incomplete".
pub fn decode_prefix<T: Codec>(input: &[u8]) -> Result<(T, &[u8]), DecodeError> {
    match T::decode(input) {
        Ok((rest, v)) => Ok((v, rest)),
        Err(e) => Err(finish_err(e)),
    }
}

/// Size bounds applied while decoding untrusted input (ZooKeeper's `jute.maxbuffer`).
///
/// Frames on the client and election ports carry a length that [`crate::frame::frame_len`]
/// checks against `max_buffer` before the body is buffered; every string, buffer and vector
/// inside a complete frame is then bounded by the frame itself (a declared length past its
/// end is [`DecodeError::Truncated`], and nothing is allocated for it). Streams without a
/// frame length (the quorum peer port) use [`Limits::decode`], which fails with
/// [`DecodeError::TooLong`] as soon as a declared length would need more than `max_buffer`
/// bytes instead of waiting for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame / record in bytes (`jute.maxbuffer`, default 1,048,575).
    pub max_buffer: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_buffer: crate::consts::DEFAULT_MAX_BUFFER,
        }
    }
}

impl Limits {
    /// Limits with the given `jute.maxbuffer`.
    pub fn new(max_buffer: usize) -> Limits {
        Limits { max_buffer }
    }

    /// Streaming decode of one `T` whose encoding may not exceed `max_buffer` bytes.
    ///
    /// Like [`Codec::decode`] except that "incomplete" becomes a hard
    /// [`DecodeError::TooLong`] failure when the bytes still needed would take the record
    /// past the limit, so a peer declaring a 2 GiB buffer is rejected at its length word.
    pub fn decode<'a, T: Codec>(&self, i: &'a [u8]) -> JResult<'a, T> {
        match T::decode(i) {
            // Every decoder in this crate reports `Needed` relative to the end of its input,
            // so `i.len() + n` is the total size the record would have.
            Err(nom::Err::Incomplete(Needed::Size(n)))
                if i.len().saturating_add(n.get()) > self.max_buffer =>
            {
                fail(DecodeError::TooLong {
                    what: "record",
                    len: i.len().saturating_add(n.get()) as i64,
                    max: self.max_buffer,
                })
            }
            Ok((rest, _)) if i.len() - rest.len() > self.max_buffer => fail(DecodeError::TooLong {
                what: "record",
                len: (i.len() - rest.len()) as i64,
                max: self.max_buffer,
            }),
            r => r,
        }
    }
}

/// Maps a nom error from a complete input to a [`DecodeError`].
pub fn finish_err(e: nom::Err<DecodeError>) -> DecodeError {
    match e {
        nom::Err::Incomplete(_) => DecodeError::Truncated,
        nom::Err::Error(e) | nom::Err::Failure(e) => e,
    }
}

impl Codec for i32 {
    fn decode(i: &[u8]) -> JResult<'_, Self> {
        be_i32(i)
    }
    fn encode(&self, out: &mut BytesMut) {
        out.put_i32(*self)
    }
    const MIN_SIZE: usize = 4;
}

impl Codec for i64 {
    fn decode(i: &[u8]) -> JResult<'_, Self> {
        be_i64(i)
    }
    fn encode(&self, out: &mut BytesMut) {
        out.put_i64(*self)
    }
    const MIN_SIZE: usize = 8;
}

impl Codec for u8 {
    fn decode(i: &[u8]) -> JResult<'_, Self> {
        be_u8(i)
    }
    fn encode(&self, out: &mut BytesMut) {
        out.put_u8(*self)
    }
}

/// jute `boolean`: one byte; any non-zero value reads as true (as Java does).
impl Codec for bool {
    fn decode(i: &[u8]) -> JResult<'_, Self> {
        let (i, b) = be_u8(i)?;
        Ok((i, b != 0))
    }
    fn encode(&self, out: &mut BytesMut) {
        out.put_u8(*self as u8)
    }
}

/// Reads a length word: `Ok(None)` for the -1 null marker, an error for other negatives.
fn length<'a>(i: &'a [u8], what: &'static str) -> JResult<'a, Option<usize>> {
    let (i, len) = be_i32(i)?;
    match len {
        -1 => Ok((i, None)),
        l if l < 0 => fail(DecodeError::BadLength {
            what,
            len: l as i64,
        }),
        l => Ok((i, Some(l as usize))),
    }
}

/// Takes `n` bytes, or reports how many more are needed.
fn take(i: &[u8], n: usize) -> JResult<'_, &[u8]> {
    if i.len() < n {
        Err(nom::Err::Incomplete(Needed::new(n - i.len())))
    } else {
        Ok((&i[n..], &i[..n]))
    }
}

/// Decodes a jute `buffer` as a borrowed slice (`None` = null).
pub fn buffer_ref(i: &[u8]) -> JResult<'_, Option<&[u8]>> {
    match length(i, "buffer")? {
        (i, None) => Ok((i, None)),
        (i, Some(n)) => {
            let (i, b) = take(i, n)?;
            Ok((i, Some(b)))
        }
    }
}

/// Encodes a jute `buffer` from an optional slice.
pub fn put_buffer(out: &mut BytesMut, b: Option<&[u8]>) {
    match b {
        None => out.put_i32(-1),
        Some(b) => {
            out.put_i32(b.len() as i32);
            out.put_slice(b);
        }
    }
}

/// Buffers at least this long are taken as slices of the frame being decoded, when the
/// caller decodes through [`decode_sharing`]; shorter ones are copied, so a small value
/// never keeps a whole read buffer alive.
pub const SHARE_MIN: usize = 1024;

thread_local! {
    /// The frame [`decode_sharing`] is decoding on this thread, if any.
    static SHARED_FRAME: std::cell::RefCell<Option<Bytes>> = const { std::cell::RefCell::new(None) };
}

/// Runs `decode` with `frame` as the source that `buffer` fields of [`SHARE_MIN`] bytes or
/// more are sliced from instead of copied (a 10 KB value then costs no copy between the
/// socket's read buffer and the log). `decode` must read from `frame`'s own bytes; a buffer
/// that lies outside them is copied as usual.
pub fn decode_sharing<T>(frame: &Bytes, decode: impl FnOnce() -> T) -> T {
    /// Restores the previous frame even if `decode` unwinds.
    struct Restore(Option<Bytes>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.0.take();
            SHARED_FRAME.with(|f| *f.borrow_mut() = prev);
        }
    }
    let prev = SHARED_FRAME.with(|f| f.borrow_mut().replace(frame.clone()));
    let _restore = Restore(prev);
    decode()
}

/// `b` as a `Bytes`: a slice of the frame being decoded when it is long enough and lies
/// inside it, otherwise a copy.
fn owned_buffer(b: &[u8]) -> Bytes {
    if b.len() >= SHARE_MIN {
        let shared = SHARED_FRAME.with(|f| {
            let f = f.borrow();
            let frame = f.as_ref()?;
            let (start, end) = (
                frame.as_ptr() as usize,
                frame.as_ptr() as usize + frame.len(),
            );
            let p = b.as_ptr() as usize;
            // Checked here, so `slice_ref` (which panics otherwise) is always in bounds.
            (p >= start && p + b.len() <= end).then(|| frame.slice_ref(b))
        });
        if let Some(s) = shared {
            return s;
        }
    }
    Bytes::copy_from_slice(b)
}

/// jute `buffer`; `None` is the null buffer (length -1), distinct from empty.
impl Codec for Option<Bytes> {
    fn decode(i: &[u8]) -> JResult<'_, Self> {
        let (i, b) = buffer_ref(i)?;
        Ok((i, b.map(owned_buffer)))
    }
    fn encode(&self, out: &mut BytesMut) {
        put_buffer(out, self.as_deref())
    }
    const MIN_SIZE: usize = 4;
}

/// A non-null jute `buffer` (null decodes as empty).
impl Codec for Bytes {
    fn decode(i: &[u8]) -> JResult<'_, Self> {
        let (i, b) = buffer_ref(i)?;
        Ok((i, b.map(owned_buffer).unwrap_or_default()))
    }
    fn encode(&self, out: &mut BytesMut) {
        put_buffer(out, Some(self))
    }
    const MIN_SIZE: usize = 4;
}

/// jute `ustring`. The null string (length -1) decodes as the empty string: ZooKeeper's
/// records never distinguish the two for strings a server reads. Use `Option<String>`
/// where the distinction must survive a round trip.
impl Codec for String {
    fn decode(i: &[u8]) -> JResult<'_, Self> {
        let (i, b) = match length(i, "string")? {
            (i, None) => return Ok((i, String::new())),
            (i, Some(n)) => take(i, n)?,
        };
        match std::str::from_utf8(b) {
            Ok(s) => Ok((i, s.to_owned())),
            Err(_) => match decode_cesu8(b) {
                Some(s) => Ok((i, s)),
                None => fail(DecodeError::BadUtf8),
            },
        }
    }
    fn encode(&self, out: &mut BytesMut) {
        out.put_i32(self.len() as i32);
        out.put_slice(self.as_bytes());
    }
    const MIN_SIZE: usize = 4;
}

/// Decodes Java's "modified" UTF-8 for non-BMP characters: Java's jute writer encodes each
/// UTF-16 unit separately, so a character above U+FFFF arrives as two 3-byte surrogate
/// sequences (CESU-8). Returns `None` for anything else that is not valid UTF-8.
/// (Encoding always writes standard UTF-8, which Java and other clients read correctly.)
fn decode_cesu8(mut b: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(b.len());
    while !b.is_empty() {
        let valid = match std::str::from_utf8(b) {
            Ok(s) => s.len(),
            Err(e) => e.valid_up_to(),
        };
        out.push_str(std::str::from_utf8(&b[..valid]).ok()?);
        b = &b[valid..];
        if b.is_empty() {
            break;
        }
        // At an invalid sequence: it must be a high surrogate followed by a low one.
        let hi = surrogate(b.get(..3)?)?;
        let lo = surrogate(b.get(3..6)?)?;
        if !(0xD800..0xDC00).contains(&hi) || !(0xDC00..0xE000).contains(&lo) {
            return None;
        }
        out.push(char::from_u32(
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00),
        )?);
        b = &b[6..];
    }
    Some(out)
}

/// The UTF-16 surrogate unit a 3-byte `ED xx xx` sequence encodes, if it is one.
fn surrogate(s: &[u8]) -> Option<u32> {
    match s {
        [0xED, b1 @ 0xA0..=0xBF, b2 @ 0x80..=0xBF] => {
            Some(0xD000 | ((*b1 as u32 & 0x3F) << 6) | (*b2 as u32 & 0x3F))
        }
        _ => None,
    }
}

/// A nullable jute `ustring` (`None` = length -1).
impl Codec for Option<String> {
    fn decode(i: &[u8]) -> JResult<'_, Self> {
        if let (rest, None) = length(i, "string")? {
            return Ok((rest, None));
        }
        let (i, s) = String::decode(i)?;
        Ok((i, Some(s)))
    }
    fn encode(&self, out: &mut BytesMut) {
        match self {
            None => out.put_i32(-1),
            Some(s) => s.encode(out),
        }
    }
    const MIN_SIZE: usize = 4;
}

/// Decodes `count` elements, never reserving more than the remaining bytes could hold.
fn elements<T: Codec>(mut i: &[u8], count: usize) -> JResult<'_, Vec<T>> {
    let mut v = Vec::with_capacity(count.min(i.len() / T::MIN_SIZE.max(1)));
    for _ in 0..count {
        let (rest, e) = T::decode(i)?;
        v.push(e);
        i = rest;
    }
    Ok((i, v))
}

/// jute `vector<T>`; a null vector (count -1) decodes as empty.
impl<T: Codec> Codec for Vec<T> {
    fn decode(i: &[u8]) -> JResult<'_, Self> {
        match length(i, "vector")? {
            (i, None) => Ok((i, Vec::new())),
            (i, Some(n)) => elements(i, n),
        }
    }
    fn encode(&self, out: &mut BytesMut) {
        out.put_i32(self.len() as i32);
        for e in self {
            e.encode(out);
        }
    }
    const MIN_SIZE: usize = 4;
}

/// A nullable jute `vector<T>` (`None` = count -1), e.g. QuorumPacket.authinfo.
impl<T: Codec> Codec for Option<Vec<T>> {
    fn decode(i: &[u8]) -> JResult<'_, Self> {
        match length(i, "vector")? {
            (i, None) => Ok((i, None)),
            (i, Some(n)) => {
                let (i, v) = elements(i, n)?;
                Ok((i, Some(v)))
            }
        }
    }
    fn encode(&self, out: &mut BytesMut) {
        match self {
            None => out.put_i32(-1),
            Some(v) => v.encode(out),
        }
    }
    const MIN_SIZE: usize = 4;
}

/// Two values back to back, e.g. a snapshot's `{long sessionId, int timeout}` pairs.
impl<A: Codec, B: Codec> Codec for (A, B) {
    fn decode(i: &[u8]) -> JResult<'_, Self> {
        let (i, a) = A::decode(i)?;
        let (i, b) = B::decode(i)?;
        Ok((i, (a, b)))
    }
    fn encode(&self, out: &mut BytesMut) {
        self.0.encode(out);
        self.1.encode(out);
    }
    const MIN_SIZE: usize = A::MIN_SIZE + B::MIN_SIZE;
}

/// Three values back to back, e.g. a snapshot node's `{data, aclId, StatPersisted}`.
impl<A: Codec, B: Codec, C: Codec> Codec for (A, B, C) {
    fn decode(i: &[u8]) -> JResult<'_, Self> {
        let (i, (a, b)) = <(A, B)>::decode(i)?;
        let (i, c) = C::decode(i)?;
        Ok((i, (a, b, c)))
    }
    fn encode(&self, out: &mut BytesMut) {
        self.0.encode(out);
        self.1.encode(out);
        self.2.encode(out);
    }
    const MIN_SIZE: usize = A::MIN_SIZE + B::MIN_SIZE + C::MIN_SIZE;
}

/// Declares a jute record: a struct whose fields are encoded back-to-back in order.
#[macro_export]
macro_rules! record {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $f:ident : $t:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
        pub struct $name { $($(#[$fm])* pub $f: $t),* }

        impl $crate::codec::Codec for $name {
            #[allow(unused_variables)]
            fn decode(i: &[u8]) -> $crate::error::JResult<'_, Self> {
                $(let (i, $f) = <$t as $crate::codec::Codec>::decode(i)?;)*
                Ok((i, $name { $($f),* }))
            }
            #[allow(unused_variables)]
            fn encode(&self, out: &mut bytes::BytesMut) {
                $($crate::codec::Codec::encode(&self.$f, out);)*
            }
            const MIN_SIZE: usize = 0 $(+ <$t as $crate::codec::Codec>::MIN_SIZE)*;
        }
    };
}

#[cfg(test)]
// Test code only: an unwrap here is an assertion on fixtures the test built itself, never
// input the server reads from the wire or from an operator's disk.
mod tests {
    use super::*;

    /// Whether `b`'s bytes lie inside `frame`'s (a slice, not a copy).
    fn inside(b: &[u8], frame: &[u8]) -> bool {
        let (p, f) = (b.as_ptr() as usize, frame.as_ptr() as usize);
        p >= f && p + b.len() <= f + frame.len()
    }

    #[test]
    fn large_buffers_are_sliced_from_the_frame_small_ones_copied() {
        let big = vec![7u8; SHARE_MIN];
        let mut b = BytesMut::new();
        put_buffer(&mut b, Some(&big));
        put_buffer(&mut b, Some(b"small"));
        let frame = b.freeze();
        let (x, y) = decode_sharing(&frame, || {
            let (rest, x) = Option::<Bytes>::decode(&frame).unwrap();
            let (_, y) = Bytes::decode(rest).unwrap();
            (x.unwrap(), y)
        });
        assert_eq!(&x[..], &big[..]);
        assert!(inside(&x, &frame), "a large buffer is a slice of the frame");
        assert_eq!(&y[..], b"small");
        assert!(!inside(&y, &frame), "a small buffer is copied");
        // Outside decode_sharing, and for input that is not the frame, values are copied.
        let plain = decode_all::<Bytes>(&frame[..4 + SHARE_MIN]).unwrap();
        assert!(!inside(&plain, &frame));
        let other = frame.to_vec();
        let copied = decode_sharing(&frame, || decode_all::<Bytes>(&other[..4 + SHARE_MIN]));
        assert!(!inside(&copied.unwrap(), &frame));
    }

    #[test]
    fn negative_lengths_are_rejected() {
        let bad = (-2i32).to_be_bytes();
        assert!(matches!(
            decode_all::<String>(&bad),
            Err(DecodeError::BadLength { .. })
        ));
        assert_eq!(
            decode_all::<Option<Bytes>>(&(-1i32).to_be_bytes()),
            Ok(None)
        );
    }

    #[test]
    fn short_input_is_incomplete_not_a_panic() {
        let mut b = BytesMut::new();
        b.put_i32(10);
        b.put_slice(b"abc");
        assert!(matches!(String::decode(&b), Err(nom::Err::Incomplete(_))));
        assert_eq!(decode_all::<String>(&b), Err(DecodeError::Truncated));
    }

    #[test]
    fn huge_vector_count_does_not_allocate() {
        let mut b = BytesMut::new();
        b.put_i32(i32::MAX);
        assert_eq!(decode_all::<Vec<i64>>(&b), Err(DecodeError::Truncated));
    }
}
