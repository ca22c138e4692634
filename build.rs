//! Compiles `proto/pmm/v1/*.proto` into Rust (messages with prost, client and
//! server stubs with tonic) and writes the file descriptor set used for
//! gRPC server reflection.
//!
//! `protoc` comes from the `protoc-bin-vendored` crate, so a fresh machine
//! needs nothing but cargo.

use std::error::Error;
use std::path::{Path, PathBuf};

/// Name (without `.bin`) of the descriptor set written to `OUT_DIR`; read back
/// by `tonic::include_file_descriptor_set!` in `src/lib.rs`.
const DESCRIPTOR_SET: &str = "pmm_v1_descriptor";

fn main() -> Result<(), Box<dyn Error>> {
    let include_dir = Path::new("proto");
    let proto_dir = include_dir.join("pmm").join("v1");

    // Every .proto of the package, in a stable order.
    let mut protos: Vec<PathBuf> = std::fs::read_dir(&proto_dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    protos.retain(|p| p.extension().is_some_and(|ext| ext == "proto"));
    protos.sort();
    if protos.is_empty() {
        return Err(format!("no .proto files in {}", proto_dir.display()).into());
    }

    // Rebuild when a proto is added, removed or edited (a directory is
    // scanned recursively by cargo), or when this script changes.
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={}", include_dir.display());
    for proto in &protos {
        println!("cargo:rerun-if-changed={}", proto.display());
    }

    // Always the vendored protoc: the same compiler on every machine.
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    std::env::set_var("PROTOC", protoc);

    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .file_descriptor_set_path(out_dir.join(format!("{DESCRIPTOR_SET}.bin")))
        .compile_protos(&protos, &[include_dir.to_path_buf()])?;
    Ok(())
}
