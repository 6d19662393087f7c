//! Short import and export names for the package's wasm modules and their glue.
//!
//! wasm-bindgen names each import `__wbg_<name>_<16 hex digits>` and each closure trampoline
//! export after its full Rust type (some are 300 characters), and every name is written twice:
//! in the module's import or export section and in the glue that provides or calls it. Hex
//! hashes do not compress, so in the client they cost about 4 KB of what a page loads (gzip).
//! Binaryen's `--minify-imports-and-exports-and-modules` renames them in the module to one or two
//! letters (all imports from one module) and prints the mapping; [`rewrite_glue`] applies that
//! mapping to the glue, token by token, and fails if the glue does not match the module.

use std::collections::HashMap;
use std::path::Path;

use crate::proc::Result;

/// The renaming binaryen printed: imports (old field -> new field) and exports (old -> new).
#[derive(Debug, Default, PartialEq)]
pub struct Mapping {
    pub imports: HashMap<String, String>,
    pub exports: HashMap<String, String>,
}

/// Reads binaryen's JSON mapping: `{"imports": [["module", "old", "new"], ...], "exports":
/// [["old", "new"], ...]}`, one entry a line. Names are identifiers, so no escapes occur.
pub fn parse_mapping(json: &str) -> Result<Mapping> {
    let mut mapping = Mapping::default();
    let mut section = "";
    for line in json.lines() {
        let line = line.trim();
        if line.starts_with("\"imports\"") {
            section = "imports";
        } else if line.starts_with("\"exports\"") {
            section = "exports";
        } else if line.starts_with('[') && line.len() > 1 {
            let names: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
            match (section, names.as_slice()) {
                ("imports", [_module, old, new]) => {
                    mapping.imports.insert(old.to_string(), new.to_string());
                }
                ("exports", [old, new]) => {
                    mapping.exports.insert(old.to_string(), new.to_string());
                }
                _ => return Err(format!("unexpected line in binaryen's mapping: {line}")),
            }
        }
    }
    if mapping.imports.is_empty() || mapping.exports.is_empty() {
        return Err("binaryen printed no import or export mapping".into());
    }
    Ok(mapping)
}

/// The module names of a wasm module's imports, in order (its import section).
pub fn import_modules(wasm: &[u8]) -> Result<Vec<String>> {
    let mut r = Reader { bytes: wasm, at: 8 };
    if wasm.get(..4) != Some(b"\0asm") {
        return Err("not a wasm module".into());
    }
    while r.at < wasm.len() {
        let id = r.byte()?;
        let size = r.u32()? as usize;
        let end = r.at + size;
        if id != 2 {
            r.at = end;
            continue;
        }
        let mut modules = Vec::new();
        for _ in 0..r.u32()? {
            modules.push(r.name()?);
            r.name()?;
            match r.byte()? {
                0x00 => {
                    r.u32()?;
                }
                0x01 => {
                    r.byte()?;
                    r.limits()?;
                }
                0x02 => r.limits()?,
                0x03 => {
                    r.byte()?;
                    r.byte()?;
                }
                0x04 => {
                    r.byte()?;
                    r.u32()?;
                }
                kind => return Err(format!("unknown import kind {kind:#x}")),
            }
        }
        return Ok(modules);
    }
    Ok(Vec::new())
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8> {
        let b = *self.bytes.get(self.at).ok_or("truncated wasm module")?;
        self.at += 1;
        Ok(b)
    }

    fn u32(&mut self) -> Result<u32> {
        let mut value = 0u32;
        for shift in (0..35).step_by(7) {
            let b = self.byte()?;
            value |= u32::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("bad LEB128 in wasm module".into())
    }

    fn name(&mut self) -> Result<String> {
        let len = self.u32()? as usize;
        let bytes = self
            .bytes
            .get(self.at..self.at + len)
            .ok_or("truncated name")?;
        self.at += len;
        String::from_utf8(bytes.to_vec()).map_err(|e| e.to_string())
    }

    fn limits(&mut self) -> Result {
        let flags = self.byte()?;
        self.u32()?;
        if flags & 1 != 0 {
            self.u32()?;
        }
        Ok(())
    }
}

/// The glue with the new names: every import key (`old: function`), every export use
/// (`wasm.old`), and the import module `"./{old_module}"` as `new_module`. Fails if an import or
/// export the glue names is not in the mapping, or if the glue does not name the old module,
/// since the module would then not instantiate.
pub fn rewrite_glue(
    glue: &str,
    mapping: &Mapping,
    old_module: &str,
    new_module: &str,
) -> Result<String> {
    let quoted = format!("\"{old_module}\":");
    if glue.matches(&quoted).count() != 1 {
        return Err(format!(
            "the glue does not name its module {old_module} once"
        ));
    }
    let glue = glue.replace(&quoted, &format!("\"{new_module}\":"));
    let mut out = String::with_capacity(glue.len());
    let mut rest = glue.as_str();
    let mut renamed_imports = 0;
    while let Some(start) = rest.find(is_ident) {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let len = from.find(|c: char| !is_ident(c)).unwrap_or(from.len());
        let (token, after) = from.split_at(len);
        let export_use = out.ends_with("wasm.");
        let import_key = after.starts_with(": function") && out.ends_with(char::is_whitespace);
        let renamed = if export_use {
            Some(mapping.exports.get(token).ok_or_else(|| {
                format!("the glue calls wasm.{token}, which binaryen did not map")
            })?)
        } else if import_key && (token.starts_with("__wbg_") || token.starts_with("__wbindgen_")) {
            renamed_imports += 1;
            Some(mapping.imports.get(token).ok_or_else(|| {
                format!("the glue provides import {token}, which binaryen did not map")
            })?)
        } else {
            None
        };
        out.push_str(renamed.map_or(token, String::as_str));
        rest = after;
    }
    out.push_str(rest);
    if renamed_imports != mapping.imports.len() {
        return Err(format!(
            "the glue provides {renamed_imports} imports, the module has {}",
            mapping.imports.len()
        ));
    }
    Ok(out)
}

/// Minifies `wasm` in place (binaryen's `--minify-imports-and-exports-and-modules`, and the
/// custom sections no browser reads dropped: which tools built it, which features it uses) and
/// rewrites its wasm-bindgen glue `glue` to match; `old_module` is the import module the glue
/// provides (`./{name}_bg.js`). Used for the package's modules and the dashboard's.
pub fn minify_in_place(wasm_opt: &str, wasm: &Path, glue: &Path, old_module: &str) -> Result {
    let wasm_str = wasm.to_str().ok_or("non-UTF-8 path")?;
    let mut args = crate::pkg::WASM_FEATURES.to_vec();
    args.extend([
        "--strip-producers",
        "--strip-target-features",
        "--minify-imports-and-exports-and-modules",
        wasm_str,
        "-o",
        wasm_str,
    ]);
    println!("$ wasm-opt {}", args.join(" "));
    let printed = crate::proc::output(wasm_opt, &args)
        .ok_or("wasm-opt --minify-imports-and-exports-and-modules failed")?;
    let mapping = parse_mapping(&printed)?;
    let module = std::fs::read(wasm).map_err(|e| e.to_string())?;
    let mut modules = import_modules(&module)?;
    modules.dedup();
    let [new_module] = modules.as_slice() else {
        return Err(format!(
            "the minified module imports from {modules:?}, not one module"
        ));
    };
    let text = std::fs::read_to_string(glue).map_err(|e| format!("{}: {e}", glue.display()))?;
    let text = rewrite_glue(&text, &mapping, old_module, new_module)?;
    std::fs::write(glue, text).map_err(|e| e.to_string())
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAP: &str = r#"{
 "imports": [
  ["./m_bg.js", "__wbg_set_onerror_01c46f9c43941951", "$"],
  ["./m_bg.js", "__wbindgen_cast_0000000000000001", "a"]
 ],
 "exports": [
  ["memory", "b"],
  ["rawclient_new", "c"],
  ["f_true_", "d"],
  ["f_true__44", "e"]
 ]
}"#;

    #[test]
    fn the_mapping_is_read_as_binaryen_prints_it() {
        let m = parse_mapping(MAP).unwrap();
        assert_eq!(m.imports["__wbg_set_onerror_01c46f9c43941951"], "$");
        assert_eq!(m.exports["f_true__44"], "e");
        assert_eq!(m.exports.len(), 4);
        assert!(parse_mapping("{}").is_err());
    }

    #[test]
    fn the_glue_is_renamed_token_by_token() {
        let m = parse_mapping(MAP).unwrap();
        let glue = "const import0 = {\n    __wbg_set_onerror_01c46f9c43941951: function(a) { a.onerror = wasm.f_true__44; },\n    \
                    __wbindgen_cast_0000000000000001: function(x) { return wasm.f_true_(x); },\n};\n\
                    return { \"./m_bg.js\": import0 };\n// memory stays memory here\nwasm.memory.buffer; wasm.rawclient_new();";
        let out = rewrite_glue(glue, &m, "./m_bg.js", "a").unwrap();
        assert!(
            out.contains("    $: function(a) { a.onerror = wasm.e; }"),
            "{out}"
        );
        assert!(
            out.contains("    a: function(x) { return wasm.d(x); }"),
            "{out}"
        );
        assert!(out.contains("{ \"a\": import0 }"), "{out}");
        assert!(
            out.contains("// memory stays memory here\nwasm.b.buffer; wasm.c();"),
            "{out}"
        );
    }

    #[test]
    fn a_glue_that_does_not_match_the_module_is_refused() {
        let m = parse_mapping(MAP).unwrap();
        let unknown_export = "{ \"./m_bg.js\": 0 } wasm.other();";
        assert!(rewrite_glue(unknown_export, &m, "./m_bg.js", "a").is_err());
        let missing_import =
            "{ \"./m_bg.js\": 0 }\n  __wbg_set_onerror_01c46f9c43941951: function() {}";
        assert!(rewrite_glue(missing_import, &m, "./m_bg.js", "a").is_err());
        let no_module = "  __wbg_set_onerror_01c46f9c43941951: function() {}\n  __wbindgen_cast_0000000000000001: function() {}";
        assert!(rewrite_glue(no_module, &m, "./m_bg.js", "a").is_err());
    }

    #[test]
    fn the_import_modules_are_read_from_the_import_section() {
        // (module (import "a" "b" (func)) (import "a" "m" (memory 1)) (import "zz" "t" (table 1 2 externref)))
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend([1, 4, 1, 0x60, 0, 0]); // type section: () -> ()
        let imports: Vec<u8> = [
            &[3u8][..],
            &[1, b'a', 1, b'b', 0x00, 0],
            &[1, b'a', 1, b'm', 0x02, 0, 1],
            &[2, b'z', b'z', 1, b't', 0x01, 0x6f, 1, 1, 2],
        ]
        .concat();
        wasm.extend([2, imports.len() as u8]);
        wasm.extend(imports);
        assert_eq!(import_modules(&wasm).unwrap(), ["a", "a", "zz"]);
        assert!(import_modules(b"nope").is_err());
    }
}
