//! Building the npm package (`cargo xtask pkg`): the client's and the codec's wasm modules, their
//! bindings, and the package directory `pkg/` with its README.

use std::path::{Path, PathBuf};

use crate::minify;
use crate::proc::{cmd, root, run, Result};
use crate::tools::{self, tools_bin, Need};

fn copy(from: &Path, to: &Path) -> Result {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copy {} -> {}: {e}", from.display(), to.display()))
}

fn size_line(path: &Path) -> String {
    let raw = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let gz = crate::proc::output(
        "sh",
        &["-c", &format!("gzip -9c '{}' | wc -c", path.display())],
    )
    .unwrap_or_default();
    format!("{}: {raw} bytes, {} gzip", path.display(), gz.trim())
}

/// How the package's wasm is built: nightly's build-std so the standard library is optimised
/// with the rest, panics that abort without formatting, opt-level "z" for size, and
/// no source locations (`-Zlocation-detail=none`: file names the module would carry for panics
/// it cannot print), `--cfg wasmqtt_speed`, which optimises the codec's and client's hot paths for speed
/// (`#[optimize(speed)]`). BENCHMARKS.md compares this with opt-level 3.
const PKG_RUSTFLAGS: &str =
    "-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none --cfg wasmqtt_speed";
const PKG_TARGET_DIR: &str = "target/pkg-build";
pub const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// Builds the npm package into pkg/ and returns its path: `wasmqtt.js` (one minified ES module:
/// our JS and wasm-bindgen's glue), `wasmqtt_core_bg.wasm`, `wasmqtt.d.ts`; the codec entry's
/// `codec.js`, `wasmqtt_codec_bg.wasm`, `codec.d.ts`; the Node entries; `package.json`.
pub fn pkg() -> Result<PathBuf> {
    pkg_with(false)
}

/// `cargo xtask pkg [--names]`: `--names` keeps function names and unminified JS, for profiles.
pub fn pkg_task(args: &[String]) -> Result {
    pkg_with(args.iter().any(|a| a == "--names")).map(|_| ())
}

fn pkg_with(names: bool) -> Result<PathBuf> {
    tools::setup(Need {
        wasm: true,
        ..Need::default()
    })?;
    let root = root();
    let out = root.join("pkg");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    // Two modules from the same crate: the client's (feature `js`) and the codec entry's
    // (`codec-api`: the streaming parser, without the client), each with its own glue and its
    // own bundles, so a page loads only the one it imports.
    for module in [
        Module {
            features: "js",
            name: "wasmqtt_core",
            entries: &[
                ("wasmqtt.js", "--platform=browser"),
                ("node.js", "--platform=node"),
            ],
        },
        Module {
            features: "codec-api",
            name: "wasmqtt_codec",
            entries: &[
                ("codec.js", "--platform=browser"),
                ("codec-node.js", "--platform=node"),
            ],
        },
    ] {
        build_module(&module, names, &out)?;
    }
    copy(&root.join("src/js/wasmqtt.d.ts"), &out.join("wasmqtt.d.ts"))?;
    for doc in ["LICENSE-MIT", "LICENSE-APACHE", "CHANGELOG.md"] {
        copy(&root.join(doc), &out.join(doc))?;
    }
    let readme = std::fs::read_to_string(root.join("README.md")).map_err(|e| e.to_string())?;
    std::fs::write(out.join("README.md"), package_readme(&readme)?).map_err(|e| e.to_string())?;
    copy(&root.join("src/js/codec.d.ts"), &out.join("codec.d.ts"))?;
    let files = [
        "wasmqtt.d.ts",
        "wasmqtt.js",
        "node.js",
        "wasmqtt_core_bg.wasm",
        "codec.d.ts",
        "codec.js",
        "codec-node.js",
        "wasmqtt_codec_bg.wasm",
        "README.md",
        "CHANGELOG.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
    ];
    let version = env!("CARGO_PKG_VERSION");
    let package = format!(
        r#"{{
  "name": "wasmqtt",
  "version": "{version}",
  "description": "MQTT 3.1.1 and 5.0 client and codec for the browser, compiled from Rust to WebAssembly",
  "type": "module",
  "main": "wasmqtt.js",
  "module": "wasmqtt.js",
  "types": "wasmqtt.d.ts",
  "exports": {{
    ".": {{
      "types": "./wasmqtt.d.ts",
      "browser": "./wasmqtt.js",
      "node": "./node.js",
      "default": "./wasmqtt.js"
    }},
    "./codec": {{
      "types": "./codec.d.ts",
      "browser": "./codec.js",
      "node": "./codec-node.js",
      "default": "./codec.js"
    }},
    "./wasmqtt_core_bg.wasm": "./wasmqtt_core_bg.wasm",
    "./wasmqtt_codec_bg.wasm": "./wasmqtt_codec_bg.wasm",
    "./package.json": "./package.json"
  }},
  "files": [{}],
  "sideEffects": false,
  "engines": {{ "node": ">=20" }},
  "peerDependencies": {{ "ws": ">=8" }},
  "peerDependenciesMeta": {{ "ws": {{ "optional": true }} }},
  "license": "MIT OR Apache-2.0",
  "repository": {{ "type": "git", "url": "git+{REPOSITORY}.git" }},
  "homepage": "{REPOSITORY}#readme",
  "bugs": "{REPOSITORY}/issues",
  "keywords": ["mqtt", "mqtt5", "websocket", "iot", "wasm", "webassembly", "mqtt.js"]
}}
"#,
        files
            .iter()
            .map(|f| format!("\"{f}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    std::fs::write(out.join("package.json"), package).map_err(|e| e.to_string())?;
    for file in [
        "wasmqtt_core_bg.wasm",
        "wasmqtt.js",
        "wasmqtt_codec_bg.wasm",
        "codec.js",
    ] {
        println!("{}", size_line(&out.join(file)));
    }
    Ok(out)
}

/// wasm-bindgen into `dir` (the glue and the unoptimised module), then wasm-opt into `result`;
/// without `names`, the module's import and export names are then minified and the glue in
/// `dir` rewritten to match (see `minify`), and the custom sections no browser reads (which
/// tools built it, which wasm features it uses) dropped.
fn bind(wasm: &Path, name: &str, dir: &Path, names: bool, result: &Path) -> Result {
    let mut bindgen = cmd("wasm-bindgen", &["--target", "web", "--out-name", name]);
    if names {
        bindgen.arg("--keep-debug");
    }
    run(bindgen.arg("--out-dir").arg(dir).arg(wasm))?;
    let wasm_opt = tools_bin().join("wasm-opt");
    let wasm_opt = wasm_opt.to_str().unwrap_or("wasm-opt");
    run(cmd(wasm_opt, if names { &["-Oz", "-g"] } else { &["-Oz"] })
        .args(WASM_FEATURES)
        .arg(dir.join(format!("{name}_bg.wasm")))
        .arg("-o")
        .arg(result))?;
    if names {
        return Ok(());
    }
    minify::minify_in_place(
        wasm_opt,
        result,
        &dir.join(format!("{name}.js")),
        &format!("./{name}_bg.js"),
    )
}

/// One of the package's wasm modules and the JavaScript entries bundled with its glue.
struct Module {
    features: &'static str,
    /// wasm-bindgen's out-name: the glue is `{name}.js`, the module `{name}_bg.wasm`.
    name: &'static str,
    /// Entry files in src/js and esbuild's platform for each.
    entries: &'static [(&'static str, &'static str)],
}

/// Builds one module into `out`: cargo, wasm-bindgen, wasm-opt, then esbuild bundles of its
/// entries with the glue (our modules import it as './wasmqtt_core.js', whichever it is). Also a
/// twin with function names in target/pkg-build (`{name}_names.wasm`), for the package test that
/// keeps core::fmt (and other machinery the package must not carry) out of the modules: names
/// are stripped from what ships, and `-g` changes a few bytes of the optimised code, so it is
/// built twice.
fn build_module(module: &Module, names: bool, out: &Path) -> Result {
    let root = root();
    let target = root.join(PKG_TARGET_DIR);
    cargo_wasm(&["--lib", "--features", module.features])?;
    // Each build overwrites this file: it is bound before the next module is built.
    let wasm = target.join("wasm32-unknown-unknown/pkg/wasmqtt.wasm");
    let bg = format!("{}_bg.wasm", module.name);
    let glue = target.join(format!("glue-{}", module.name));
    let _ = std::fs::remove_dir_all(&glue);
    let twin = target.join(format!("names-{}", module.name));
    let _ = std::fs::remove_dir_all(&twin);
    bind(&wasm, module.name, &glue, names, &out.join(&bg))?;
    let twin_wasm = target.join(format!("{}_names.wasm", module.name));
    if names {
        copy(&out.join(&bg), &twin_wasm)?;
    } else {
        bind(&wasm, module.name, &twin, true, &twin_wasm)?;
    }
    for entry in std::fs::read_dir(root.join("src/js")).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|x| x == "js") {
            copy(&path, &glue.join(path.file_name().unwrap_or_default()))?;
        }
    }
    let own_glue = glue.join(format!("{}.js", module.name));
    if module.name != "wasmqtt_core" {
        copy(&own_glue, &glue.join("wasmqtt_core.js"))?;
    }
    for (entry, platform) in module.entries {
        run(cmd(
            tools_bin().join("esbuild").to_str().unwrap_or("esbuild"),
            &[
                "--bundle",
                if names {
                    "--log-level=warning"
                } else {
                    "--minify"
                },
                "--format=esm",
                "--target=es2020",
                "--legal-comments=none",
                platform,
            ],
        )
        .arg(glue.join(entry))
        .arg(format!("--outfile={}", out.join(entry).display())))?;
    }
    Ok(())
}

/// cargo builds wasm as the package's modules are built (`what`: which target and features).
fn cargo_wasm(what: &[&str]) -> Result {
    let mut args = vec![
        "+nightly",
        "build",
        "--profile",
        "pkg",
        "--target",
        "wasm32-unknown-unknown",
        "-Z",
        "build-std=std,panic_abort",
        "--target-dir",
        PKG_TARGET_DIR,
    ];
    args.extend(what);
    run(cmd("cargo", &args)
        .env("RUSTFLAGS", PKG_RUSTFLAGS)
        .env("CARGO_PROFILE_PKG_OPT_LEVEL", "z"))
}

/// `cargo xtask size-floor`: builds the size floor (`tests/size/floor.rs`: the codec and client
/// core behind the narrowest wasm interface, nothing else) as the package's modules are built,
/// and prints its size beside the package's (built first if `pkg/` is missing): what any client
/// on this core weighs at least, for issue 11's size target.
pub fn size_floor() -> Result {
    let root = root();
    if !root.join("pkg/wasmqtt_core_bg.wasm").exists() {
        pkg()?;
    }
    tools::setup(Need {
        wasm: true,
        ..Need::default()
    })?;
    cargo_wasm(&["--example", "size_floor"])?;
    let target = root.join(PKG_TARGET_DIR);
    let wasm = target.join("wasm32-unknown-unknown/pkg/examples/size_floor.wasm");
    let dir = target.join("floor");
    let _ = std::fs::remove_dir_all(&dir);
    let result = dir.join("floor.wasm");
    bind(&wasm, "size_floor", &dir.join("glue"), false, &result)?;
    let glue = dir.join("floor.js");
    run(cmd(
        tools_bin().join("esbuild").to_str().unwrap_or("esbuild"),
        &["--minify", "--format=esm", "--legal-comments=none"],
    )
    .arg(dir.join("glue/size_floor.js"))
    .arg(format!("--outfile={}", glue.display())))?;
    println!("\nThe floor: the codec and client core behind the narrowest interface (gzip -9):");
    println!("{}", size_line(&result));
    println!("{}", size_line(&glue));
    println!("\nThe package's client, for comparison:");
    for file in ["wasmqtt_core_bg.wasm", "wasmqtt.js"] {
        println!("{}", size_line(&root.join("pkg").join(file)));
    }
    Ok(())
}

/// Where the sources live (package.json's repository, homepage and bugs fields).
const REPOSITORY: &str = "https://github.com/wasmqtt/wasmqtt";

/// The package's README: the root README's sections for JavaScript users (from "The client from
/// JavaScript" up to "Tasks"), so what npm shows and what the repository says never differ.
fn package_readme(readme: &str) -> Result<String> {
    let start = readme
        .find("## The client from JavaScript")
        .ok_or("README.md: no \"## The client from JavaScript\" section")?;
    let end = readme[start..]
        .find("\n## Tasks")
        .map(|i| start + i + 1)
        .ok_or("README.md: no \"## Tasks\" section after the JavaScript ones")?;
    Ok(format!(
        "# wasmqtt\n\n\
         An MQTT 3.1.1 and 5.0 client for browsers and Node, compiled from Rust to WebAssembly, with\n\
         MQTT.js's API, and a codec with mqtt-packet's object shapes. Sources, the dashboard and the\n\
         benchmarks: {REPOSITORY}.\n\n\
         ```sh\nnpm install wasmqtt\n```\n\n{}\
         ## License\n\nMIT or Apache-2.0, at your choice (LICENSE-MIT, LICENSE-APACHE).\n",
        &readme[start..end]
    ))
}
