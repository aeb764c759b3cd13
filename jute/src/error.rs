//! Decode errors. Every malformed input maps to one of these; nothing in the crate panics.

use nom::error::{ErrorKind, ParseError};
use std::fmt;

/// Why a record could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// A length field is negative (other than the -1 null marker).
    BadLength { what: &'static str, len: i64 },
    /// A length field exceeds the configured limit (`jute.maxbuffer`); rejected before allocating.
    TooLong {
        what: &'static str,
        len: i64,
        max: usize,
    },
    /// An enum field holds a value ZooKeeper does not define.
    UnknownValue { what: &'static str, value: i64 },
    /// A string is not valid UTF-8.
    BadUtf8,
    /// The input ended inside a record that had to be complete (e.g. inside a frame).
    Truncated,
    /// Bytes were left over after a record that had to consume the whole frame.
    TrailingBytes(usize),
    /// Any other structural problem, described.
    Invalid(&'static str),
    /// A low-level nom failure (should not normally surface).
    Nom(ErrorKind),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::BadLength { what, len } => write!(f, "negative {what} length {len}"),
            DecodeError::TooLong { what, len, max } => {
                write!(
                    f,
                    "{what} length {len} exceeds the limit {max} (jute.maxbuffer)"
                )
            }
            DecodeError::UnknownValue { what, value } => write!(f, "unknown {what} value {value}"),
            DecodeError::BadUtf8 => write!(f, "string is not valid UTF-8"),
            DecodeError::Truncated => write!(f, "record truncated"),
            DecodeError::TrailingBytes(n) => write!(f, "{n} unexpected trailing bytes"),
            DecodeError::Invalid(what) => write!(f, "invalid record: {what}"),
            DecodeError::Nom(kind) => write!(f, "malformed input ({kind:?})"),
        }
    }
}

impl std::error::Error for DecodeError {}

impl<I> ParseError<I> for DecodeError {
    fn from_error_kind(_input: I, kind: ErrorKind) -> Self {
        DecodeError::Nom(kind)
    }
    fn append(_input: I, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

/// nom result over a byte slice with our error type.
pub type JResult<'a, T> = nom::IResult<&'a [u8], T, DecodeError>;

/// Shorthand for a hard (non-recoverable) decode failure.
pub(crate) fn fail<T>(e: DecodeError) -> Result<T, nom::Err<DecodeError>> {
    Err(nom::Err::Failure(e))
}
