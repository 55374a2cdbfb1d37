//! Compiles `proto/switchboard/v1/*.proto` with protox (pure Rust, no protoc needed),
//! generates prost types and their proto3 JSON mapping (pbjson), and keeps the encoded
//! descriptor set for gRPC server reflection.

use std::{env, fs, path::PathBuf};

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let dir = root.join("switchboard/v1");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "proto"))
        .collect();
    files.sort();
    println!("cargo:rerun-if-changed={}", dir.display());
    let fds = protox::compile(&files, [&root])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    let bytes = fds.encode_to_vec();
    fs::write(out.join("descriptor.bin"), &bytes)?;

    let mut config = prost_build::Config::new();
    config.btree_map(["."]);
    config.compile_fds(fds)?;

    pbjson_build::Builder::new()
        .register_descriptors(&bytes)?
        .btree_map(["."])
        // Additive evolution: a newer client's extra fields must not break an older server.
        .ignore_unknown_fields()
        .build(&[".switchboard"])?;
    Ok(())
}
