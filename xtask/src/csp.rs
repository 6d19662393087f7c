//! `cargo xtask csp`: the dashboard's Content-Security-Policy, applied by trunk's post-build
//! hook (Trunk.toml) to the page it stages.
//!
//! Trunk writes the script that loads the wasm inline, and a policy without 'unsafe-inline'
//! refuses inline scripts. So every inline script moves to a file of its own beside the page,
//! loaded the same way, and the page gets a policy that allows scripts from its own origin only:
//! a payload shown on the page can never run as script.
//!
//! The same hook gives the dashboard's wasm the package's short import and export names
//! (`minify::minify_in_place`: 2.7 KB less wasm to load, gzip) and writes the page's integrity
//! hashes again for the two files that changed.

use std::path::Path;

use crate::proc::Result;

/// The policy. Brokers are the user's choice (any ws: / wss: URL); the Worker that keeps
/// timers alive in hidden tabs is made from a Blob; Leptos sets style attributes.
pub const POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; \
    worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'none'";

/// Rewrites `html`: inline scripts become files (`name`, contents) and the policy goes first
/// in the head. Pure, so it is tested without trunk.
pub fn rewrite(html: &str) -> (String, Vec<(String, String)>) {
    let mut out = String::with_capacity(html.len() + 512);
    let mut files = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let Some(tag_end) = rest[start..].find('>').map(|i| start + i) else {
            break;
        };
        let tag = &rest[start..=tag_end];
        let Some(close) = rest[tag_end..].find("</script>").map(|i| tag_end + i) else {
            break;
        };
        out.push_str(&rest[..start]);
        let body = &rest[tag_end + 1..close];
        if tag.contains(" src=") || body.trim().is_empty() {
            out.push_str(&rest[start..close + "</script>".len()]);
        } else {
            let name = format!("inline-{}.js", files.len());
            let attrs = tag.trim_start_matches("<script").trim_end_matches('>');
            out.push_str(&format!("<script{attrs} src=\"/{name}\"></script>"));
            files.push((name, body.to_string()));
        }
        rest = &rest[close + "</script>".len()..];
    }
    out.push_str(rest);
    let meta = format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{POLICY}\" />");
    let out = match out.find("<head>") {
        Some(i) => format!("{}\n    {meta}{}", &out[..i + 6], &out[i + 6..]),
        None => format!("{meta}\n{out}"),
    };
    (out, files)
}

/// Applies [`rewrite`] to `index.html` in trunk's staging directory (`TRUNK_STAGING_DIR`) or
/// in the directory given.
pub fn csp(args: &[String]) -> Result {
    let dir = args
        .first()
        .cloned()
        .or_else(|| std::env::var("TRUNK_STAGING_DIR").ok())
        .ok_or("csp: give the directory of index.html (trunk sets TRUNK_STAGING_DIR)")?;
    let dir = Path::new(&dir);
    let page = dir.join("index.html");
    let html = std::fs::read_to_string(&page).map_err(|e| format!("{}: {e}", page.display()))?;
    if html.contains("Content-Security-Policy") {
        return Ok(());
    }
    let html = minify_module(dir, html)?;
    let (html, files) = rewrite(&html);
    for (name, body) in files {
        std::fs::write(dir.join(&name), body).map_err(|e| format!("{name}: {e}"))?;
    }
    std::fs::write(&page, html).map_err(|e| format!("{}: {e}", page.display()))
}

/// Minifies the staged module's names and its glue (`wasmqtt-{hash}_bg.wasm`, `wasmqtt-{hash}.js`)
/// and returns `html` with their integrity hashes written again.
fn minify_module(dir: &Path, html: String) -> Result<String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let wasm_name = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|n| n.starts_with("wasmqtt-") && n.ends_with("_bg.wasm"))
        .ok_or_else(|| format!("no wasmqtt-*_bg.wasm in {}", dir.display()))?;
    let glue_name = format!("{}.js", wasm_name.trim_end_matches("_bg.wasm"));
    let wasm_opt = crate::tools::tools_bin().join("wasm-opt");
    if !wasm_opt.exists() {
        return Err(format!(
            "{} is missing: run `cargo xtask setup` (it installs binaryen)",
            wasm_opt.display()
        ));
    }
    let (wasm, glue) = (dir.join(&wasm_name), dir.join(&glue_name));
    crate::minify::minify_in_place(
        wasm_opt.to_str().ok_or("non-UTF-8 path")?,
        &wasm,
        &glue,
        "./wasmqtt_bg.js",
    )?;
    let html = set_integrity(&html, &format!("/{wasm_name}"), &sri(&wasm)?)?;
    set_integrity(&html, &format!("/{glue_name}"), &sri(&glue)?)
}

/// The Subresource Integrity value of a file: `sha384-` and the digest in base64 (coreutils'
/// `sha384sum` computes it).
fn sri(path: &Path) -> Result<String> {
    let path_str = path.to_str().ok_or("non-UTF-8 path")?;
    let out = crate::proc::output("sha384sum", &[path_str])
        .ok_or_else(|| format!("sha384sum {path_str} failed"))?;
    let hex = out.split_whitespace().next().unwrap_or_default();
    let digest = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16))
        .collect::<std::result::Result<Vec<u8>, _>>()
        .map_err(|e| format!("sha384sum printed {hex}: {e}"))?;
    if digest.len() != 48 {
        return Err(format!("sha384sum printed {hex}"));
    }
    Ok(format!("sha384-{}", base64(&digest)))
}

/// Standard base64 with padding. (The dashboard's `ui::model::format::base64` is the same, in
/// the crate, which xtask does not depend on: a build tool should not build the product.)
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `html` with the `integrity` attribute of every tag whose `href` is `href` set to `value`.
/// Fails if no tag has that href with an integrity attribute: the page would then load a file
/// whose old hash no longer matches, and the browser would refuse it.
pub fn set_integrity(html: &str, href: &str, value: &str) -> Result<String> {
    let attr = format!("href=\"{href}\"");
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let mut set = 0;
    while let Some(at) = rest.find(&attr) {
        let tag_start = rest[..at].rfind('<').unwrap_or(0);
        let tag_end = rest[at..].find('>').map_or(rest.len(), |i| at + i);
        let tag = &rest[tag_start..tag_end];
        out.push_str(&rest[..tag_start]);
        match tag.find("integrity=\"") {
            Some(i) => {
                let from = i + "integrity=\"".len();
                let to = tag[from..].find('"').map_or(tag.len(), |j| from + j);
                out.push_str(&tag[..from]);
                out.push_str(value);
                out.push_str(&tag[to..]);
                set += 1;
            }
            None => out.push_str(tag),
        }
        rest = &rest[tag_end..];
    }
    out.push_str(rest);
    if set == 0 {
        return Err(format!("no tag loads {href} with an integrity hash"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_the_standard_writes_it() {
        // RFC 4648, section 10.
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
        assert_eq!(base64(&[0xfb, 0xff, 0xbf]), "+/+/");
    }

    #[test]
    fn integrity_is_set_on_every_tag_that_loads_the_file() {
        let page = r#"<link rel="stylesheet" href="/main.css" integrity="sha384-css"/><link rel="modulepreload" href="/w.js" crossorigin="anonymous" integrity="sha384-old"><link rel="preload" href="/w_bg.wasm" integrity="sha384-oldwasm" as="fetch">"#;
        let page = set_integrity(page, "/w.js", "sha384-new").unwrap();
        assert!(page.contains(r#"href="/w.js" crossorigin="anonymous" integrity="sha384-new">"#));
        assert!(
            page.contains(r#"integrity="sha384-css""#),
            "another file's hash is kept"
        );
        assert!(page.contains(r#"integrity="sha384-oldwasm""#));
        assert!(set_integrity(&page, "/missing.js", "sha384-x").is_err());
    }

    #[test]
    fn sri_of_a_file() {
        // `printf abc | openssl dgst -sha384 -binary | base64`
        let path = std::env::temp_dir().join(format!("wasmqtt-sri-{}", std::process::id()));
        std::fs::write(&path, b"abc").unwrap();
        let value = sri(&path);
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            value.unwrap(),
            "sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn"
        );
    }

    #[test]
    fn inline_scripts_move_out_and_the_policy_comes_first() {
        // Defect 18 of the reliability issue: the dashboard had no Content-Security-Policy.
        let page = "<html><head><title>t</title>\n<script type=\"module\">\nimport init from '/a.js';\nawait init();\n</script><script src=\"/x.js\"></script></head><body></body></html>";
        let (html, files) = rewrite(page);
        assert!(html.starts_with("<html><head>\n    <meta http-equiv=\"Content-Security-Policy\""));
        assert!(html.contains("<script type=\"module\" src=\"/inline-0.js\"></script>"));
        assert!(html.contains("<script src=\"/x.js\"></script>"));
        assert!(
            !html.contains("await init()"),
            "an inline script is left: {html}"
        );
        assert_eq!(
            files,
            vec![(
                "inline-0.js".to_string(),
                "\nimport init from '/a.js';\nawait init();\n".to_string()
            )]
        );
        assert!(POLICY.contains("script-src 'self' 'wasm-unsafe-eval';"));
        assert!(!POLICY.contains("script-src 'self' 'unsafe-inline'"));
    }
}
