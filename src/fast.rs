//! Hash maps for the hot path. std's default SipHash showed in request profiles; foldhash
//! is several times faster and still seeded per process (resistant to chosen-key floods).

/// A `HashMap` with foldhash.
pub type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// A `HashSet` with foldhash.
pub type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
