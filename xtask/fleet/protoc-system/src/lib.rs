//! The system's `protoc` where crates.io's `protobuf-src` would build its own (see Cargo.toml).

use std::path::PathBuf;

/// The `protoc` on PATH (Debian's protobuf-compiler).
pub fn protoc() -> PathBuf {
    PathBuf::from("protoc")
}

/// Where the system's well-known `.proto` files are.
pub fn include() -> PathBuf {
    PathBuf::from("/usr/include")
}
