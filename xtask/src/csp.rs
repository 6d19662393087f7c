//! `cargo xtask csp`: the dashboard's Content-Security-Policy, applied by trunk's post-build
//! hook (Trunk.toml) to the page it stages.
//!
//! Trunk writes the script that loads the wasm inline, and a policy without 'unsafe-inline'
//! refuses inline scripts. So every inline script moves to a file of its own beside the page,
//! loaded the same way, and the page gets a policy that allows scripts from its own origin only:
//! a payload shown on the page can never run as script.

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
    let (html, files) = rewrite(&html);
    for (name, body) in files {
        std::fs::write(dir.join(&name), body).map_err(|e| format!("{name}: {e}"))?;
    }
    std::fs::write(&page, html).map_err(|e| format!("{}: {e}", page.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
