//! Four-letter words (the admin module is being split into submodules).

mod fourlw;
pub use fourlw::VERSION;
