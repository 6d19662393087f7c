//! Installs what the tasks need, idempotently: a warm run only checks versions.

use std::path::{Path, PathBuf};

use crate::proc::{cmd, output, root, run, Result};

pub const TRUNK: &str = "0.21.14";
pub const WASM_BINDGEN: &str = "0.2.130";
pub const BINARYEN: &str = "132.0.0";
pub const WASM_OPT_VERSION: &str = "version 132";
pub const CARGO_FUZZ: &str = "0.13.2";
pub const GECKODRIVER: &str = "0.37.1";
pub const ESBUILD: &str = "0.28.2";

/// What a task needs.
#[derive(Default, Clone, Copy)]
pub struct Need {
    pub wasm: bool,
    pub trunk: bool,
    pub browsers: bool,
    pub firefox: bool,
    pub brokers: bool,
    pub node_deps: bool,
    pub fuzz: bool,
}

impl Need {
    pub fn all() -> Need {
        Need {
            wasm: true,
            trunk: true,
            browsers: true,
            firefox: true,
            brokers: true,
            node_deps: true,
            fuzz: true,
        }
    }
}

pub fn setup(need: Need) -> Result {
    if need.wasm || need.trunk {
        wasm_target()?;
        cargo_tool("wasm-bindgen", WASM_BINDGEN, "wasm-bindgen-cli", false)?;
        npm_tools()?;
    }
    if need.wasm {
        // The package is built with nightly's build-std (see pkg::pkg).
        nightly()?;
    }
    if need.trunk {
        cargo_tool("trunk", TRUNK, "trunk", true)?;
    }
    if need.fuzz {
        nightly()?;
        cargo_tool("cargo-fuzz", CARGO_FUZZ, "cargo-fuzz", true)?;
    }
    let mut packages = Vec::new();
    if need.browsers {
        packages.extend([
            ("chromium", "/usr/bin/chromium"),
            ("chromium-driver", "/usr/bin/chromedriver"),
            // WebKit (Safari's engine): WebKitGTK's MiniBrowser and WebDriver, on a virtual display.
            ("webkit2gtk-driver", "/usr/bin/WebKitWebDriver"),
            ("xvfb", "/usr/bin/Xvfb"),
        ]);
    }
    if need.firefox {
        packages.push(("firefox-esr", "/usr/bin/firefox-esr"));
    }
    if need.brokers {
        packages.extend([
            ("mosquitto", "/usr/sbin/mosquitto"),
            ("openssl", "/usr/bin/openssl"),
        ]);
    }
    apt(&packages)?;
    if need.firefox {
        cargo_tool("geckodriver", GECKODRIVER, "geckodriver", true)?;
    }
    if need.node_deps {
        node_deps()?;
    }
    Ok(())
}

fn wasm_target() -> Result {
    let installed = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    run(&mut cmd(
        "rustup",
        &["target", "add", "wasm32-unknown-unknown"],
    ))
}

/// Nightly with rust-src and the wasm target: cargo-fuzz needs it, and the package is built
/// with `-Z build-std` so the standard library is optimised for size with the rest.
fn nightly() -> Result {
    let components = output(
        "rustup",
        &["component", "list", "--toolchain", "nightly", "--installed"],
    )
    .unwrap_or_default();
    let have = |c: &str| components.lines().any(|l| l.trim().starts_with(c));
    if have("rust-src") && have("rust-std-wasm32-unknown-unknown") {
        return Ok(());
    }
    run(&mut cmd(
        "rustup",
        &[
            "toolchain",
            "install",
            "nightly",
            "--profile",
            "minimal",
            "--component",
            "rust-src",
            "--target",
            "wasm32-unknown-unknown",
        ],
    ))
}

/// `cargo install`s `krate` unless `bin --version` already reports `version`.
fn cargo_tool(bin: &str, version: &str, krate: &str, locked: bool) -> Result {
    let have = output(bin, &["--version"]).unwrap_or_default();
    if have
        .split_whitespace()
        .any(|w| w.trim_start_matches('v') == version)
    {
        return Ok(());
    }
    println!("installing {krate} {version} (a few minutes, once)");
    let mut args = vec!["install", krate, "--version", version];
    if locked {
        args.insert(1, "--locked");
    }
    run(&mut cmd("cargo", &args))
}

/// Directory holding npm-installed tools (wasm-opt from binaryen, esbuild).
pub fn tools_bin() -> PathBuf {
    root().join("target/tools/node_modules/.bin")
}

/// wasm-opt 132 from npm's binaryen (never Debian's 108: it corrupts wasm-bindgen output), and
/// esbuild, which bundles and minifies the package's JavaScript.
fn npm_tools() -> Result {
    let version = |bin: &str| {
        output(
            tools_bin().join(bin).to_str().unwrap_or_default(),
            &["--version"],
        )
        .unwrap_or_default()
    };
    if version("wasm-opt").contains(WASM_OPT_VERSION) && version("esbuild").trim() == ESBUILD {
        return Ok(());
    }
    let dir = root().join("target/tools");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    run(cmd(
        "npm",
        &[
            "install",
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--prefix",
        ],
    )
    .arg(&dir)
    .arg(format!("binaryen@{BINARYEN}"))
    .arg(format!("esbuild@{ESBUILD}")))
}

/// Debian packages, installed through apt when running as root.
fn apt(packages: &[(&str, &str)]) -> Result {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(_, path)| !Path::new(path).exists())
        .map(|(p, _)| *p)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let is_root = output("id", &["-u"]).is_some_and(|u| u.trim() == "0");
    if !is_root {
        return Err(format!(
            "missing Debian packages: {0}\n  install them with: sudo apt-get install -y {0}",
            missing.join(" ")
        ));
    }
    run(cmd("apt-get", &["update", "-qq"]).env("DEBIAN_FRONTEND", "noninteractive"))?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(&missing);
    run(cmd("apt-get", &args).env("DEBIAN_FRONTEND", "noninteractive"))
}

/// What building the dev tool's broker needs beyond cargo: `protoc` (Debian's protobuf-compiler)
/// for rmqtt's raft plugin, which generates its gRPC code at build time.
pub fn fleet_build_deps() -> Result {
    apt(&[("protobuf-compiler", "/usr/bin/protoc")])
}

/// `npm ci` in tests/js when its lock file changed since the last install.
fn node_deps() -> Result {
    let dir = root().join("tests/js");
    let lock = std::fs::read(dir.join("package-lock.json"))
        .map_err(|e| format!("tests/js/package-lock.json: {e}"))?;
    let stamp = dir.join("node_modules/.wasmqtt-lock");
    if std::fs::read(&stamp).ok().as_deref() == Some(&lock[..]) {
        return Ok(());
    }
    run(cmd("npm", &["ci", "--no-audit", "--no-fund"]).current_dir(&dir))?;
    std::fs::write(&stamp, &lock).map_err(|e| e.to_string())
}
