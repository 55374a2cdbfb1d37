//! Compiles `proto/switchboard/v1/*.proto` with protox (pure Rust, no protoc needed),
//! generates prost types and their proto3 JSON mapping (pbjson), keeps the encoded
//! descriptor set for gRPC server reflection, and writes the list of services and
//! methods as a macro (`with_unary_methods!`) from which the server's handler traits and
//! dispatch and the SDK's typed calls are generated.

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

    fs::write(out.join("switchboard.v1.methods.rs"), methods_macro(&fds) + &side_effect_free(&fds))?;

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

/// The leading comment of the element at `path` in `file`, as doc attributes.
fn docs(file: &prost_types::FileDescriptorProto, path: &[i32]) -> String {
    let Some(info) = &file.source_code_info else { return String::new() };
    let Some(loc) = info.location.iter().find(|l| l.path == path) else { return String::new() };
    loc.leading_comments().lines().map(|l| format!("#[doc = {:?}] ", l.strip_prefix(' ').unwrap_or(l))).collect()
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `SIDE_EFFECT_FREE`: the methods marked `idempotency_level = NO_SIDE_EFFECTS` (served
/// over Connect GET too).
fn side_effect_free(fds: &prost_types::FileDescriptorSet) -> String {
    use prost_types::method_options::IdempotencyLevel;
    let mut names = Vec::new();
    for file in fds.file.iter().filter(|f| f.package() == "switchboard.v1") {
        for svc in &file.service {
            for m in &svc.method {
                let level = m.options.as_ref().map(|o| o.idempotency_level());
                if level == Some(IdempotencyLevel::NoSideEffects) {
                    names.push(format!("    \"{}/{}\",\n", svc.name(), m.name()));
                }
            }
        }
    }
    names.sort();
    format!(
        "\n/// The methods without side effects (`option idempotency_level = NO_SIDE_EFFECTS`), as\n\
         /// \"Service/Method\", sorted: Connect clients may call them with GET.\n\
         pub const SIDE_EFFECT_FREE: &[&str] = &[\n{}];\n",
        names.concat()
    )
}

/// `with_unary_methods!(m)` calls `m!` with every unary method, grouped by service:
/// `Service { #[doc] method => "Service/Method" (Request, Response), ... } ...`.
fn methods_macro(fds: &prost_types::FileDescriptorSet) -> String {
    let mut body = String::new();
    for file in fds.file.iter().filter(|f| f.package() == "switchboard.v1") {
        for (si, svc) in file.service.iter().enumerate() {
            let svc_docs = docs(file, &[6, si as i32]);
            body.push_str(&format!("{svc_docs}{} {{\n", svc.name()));
            for (mi, m) in svc.method.iter().enumerate() {
                if m.client_streaming() || m.server_streaming() {
                    continue;
                }
                let short = |t: &str| t.rsplit('.').next().unwrap_or(t).to_owned();
                body.push_str(&format!(
                    "    {}{} => \"{}/{}\" ({}, {}),\n",
                    docs(file, &[6, si as i32, 2, mi as i32]),
                    snake(m.name()),
                    svc.name(),
                    m.name(),
                    short(m.input_type()),
                    short(m.output_type()),
                ));
            }
            body.push_str("}\n");
        }
    }
    format!(
        "/// Calls `$m!` with every unary method of the API, grouped by service (generated from\n\
         /// `proto/` by build.rs): `Service {{ #[doc] method => \"Service/Method\" (Request, Response), .. }}`.\n\
         #[macro_export]\nmacro_rules! with_unary_methods {{\n    ($m:ident) => {{\n        $m! {{\n{body}        }}\n    }};\n}}\n"
    )
}
