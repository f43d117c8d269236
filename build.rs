//! Compiles the wire contract in `proto/` into Rust, with no system `protoc`:
//! protox parses the `.proto` files into a descriptor set, tonic-prost-build
//! generates the messages and the Ingest client and server from it, and the
//! descriptor set itself is written beside them for gRPC server reflection.

use protox::prost::Message as _;
use std::path::PathBuf;

const PROTOS: &[&str] = &["proto/driftwatch/v1/ingest.proto"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("driftwatch_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    tonic_prost_build::configure()
        // Maps keep their entries sorted, so a record's fields are checked,
        // and its rejections listed, in one reproducible order.
        .btree_map(".")
        .compile_fds(descriptors)?;
    Ok(())
}
