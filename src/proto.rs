//! The wire contract, generated at build time from `proto/` (see `build.rs`):
//! the `driftwatch.v1` messages, the Ingest client and server, and the
//! encoded descriptor set that gRPC server reflection serves; beside it,
//! [`convert`], the row form of a batch rewritten in the columnar form.

pub mod convert;

/// Package `driftwatch.v1`.
pub mod v1 {
    tonic::include_proto!("driftwatch.v1");

    /// The encoded `FileDescriptorSet` of every `.proto` file (imports
    /// included), for gRPC server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/driftwatch_descriptor.bin"));
}
