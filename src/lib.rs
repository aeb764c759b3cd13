//! rzk server (placeholder while the core lands).
