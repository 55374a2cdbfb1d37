//! Lists the migrations: every `migrations/<dialect>/NNNN_name.sql`, in order, becomes an
//! entry of `<DIALECT>_MIGRATIONS` in `$OUT_DIR/migrations.rs`, so that adding a migration
//! is adding its file. Numbers must run 0001, 0002, ... without gaps.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut out = String::new();
    for dialect in ["sqlite", "postgres"] {
        let dir = root.join(dialect);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        writeln!(out, "/// The {dialect} migrations, in order.").unwrap();
        writeln!(out, "#[cfg(feature = {dialect:?})]").unwrap();
        writeln!(out, "pub(crate) const {}_MIGRATIONS: &[&str] = &[", dialect.to_uppercase()).unwrap();
        for (i, name) in files.iter().enumerate() {
            let number: usize = name.split('_').next().and_then(|n| n.parse().ok()).unwrap_or(0);
            assert_eq!(number, i + 1, "migrations/{dialect}/{name}: expected number {:04}", i + 1);
            writeln!(out, "    include_str!({:?}),", dir.join(name).display().to_string()).unwrap();
        }
        writeln!(out, "];").unwrap();
    }
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("migrations.rs");
    std::fs::write(dest, out).expect("write migrations.rs");
}
