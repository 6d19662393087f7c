// The package as npm delivers it: what `npm pack` put in the tarball (xtask installs the tarball
// into node_modules/wasmqtt, not the pkg/ folder), its package.json, and how Node resolves it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const dir = fileURLToPath(new URL('./node_modules/wasmqtt/', import.meta.url));
const manifest = JSON.parse(readFileSync(`${dir}package.json`, 'utf8'));

test('the tarball holds the package, its README, LICENSE files and CHANGELOG, and nothing else', () => {
  const files = readdirSync(dir).sort();
  assert.deepEqual(files, [
    'CHANGELOG.md', 'LICENSE-APACHE', 'LICENSE-MIT', 'README.md', 'codec-node.js', 'codec.d.ts', 'codec.js',
    'node.js', 'package.json', 'wasmqtt.d.ts', 'wasmqtt.js', 'wasmqtt_codec_bg.wasm', 'wasmqtt_core_bg.wasm',
  ]);
  assert.match(readFileSync(`${dir}LICENSE-APACHE`, 'utf8'), /Apache License\s+Version 2\.0/);
  assert.match(readFileSync(`${dir}LICENSE-MIT`, 'utf8'), /Permission is hereby granted/);
  assert.match(readFileSync(`${dir}CHANGELOG.md`, 'utf8'), new RegExp(`## ${manifest.version.replace(/\./g, '\\.')}`));
  const readme = readFileSync(`${dir}README.md`, 'utf8');
  for (const part of ['npm install wasmqtt', '## The client from JavaScript', '### Moving from MQTT.js', '## The codec from JavaScript', '## License']) {
    assert.ok(readme.includes(part), `README.md lacks "${part}"`);
  }
  assert.ok(!readme.includes('cargo xtask test'), "the package's README is for JavaScript users, not for developers of wasmqtt");
});

test('package.json: conditional exports (types, browser, node, default), engines, sideEffects, repository', () => {
  const root = manifest.exports['.'];
  assert.deepEqual(Object.keys(root), ['types', 'browser', 'node', 'default'], 'types must come first for TypeScript');
  assert.equal(root.browser, './wasmqtt.js');
  assert.equal(root.node, './node.js');
  assert.equal(root.default, './wasmqtt.js');
  const codec = manifest.exports['./codec'];
  assert.deepEqual(codec, { types: './codec.d.ts', browser: './codec.js', node: './codec-node.js', default: './codec.js' });
  assert.equal(manifest.exports['./wasmqtt_codec_bg.wasm'], './wasmqtt_codec_bg.wasm');
  assert.equal(manifest.types, 'wasmqtt.d.ts');
  assert.equal(manifest.type, 'module');
  assert.equal(manifest.sideEffects, false);
  assert.equal(manifest.engines.node, '>=20');
  assert.equal(manifest.license, 'MIT OR Apache-2.0');
  assert.match(manifest.repository.url, /^git\+https:\/\/.+\.git$/);
  assert.ok(manifest.homepage && manifest.bugs);
  assert.equal(manifest.peerDependenciesMeta.ws.optional, true, 'ws is optional: Node 22 has a WebSocket');
  for (const f of manifest.files) assert.ok(readdirSync(dir).includes(f), `files lists ${f}, which is not in the tarball`);
});

test('Node resolves the package and its codec to their Node entries, which load their wasm from the package folder', async () => {
  assert.equal(fileURLToPath(import.meta.resolve('wasmqtt')), `${dir}node.js`);
  assert.equal(fileURLToPath(import.meta.resolve('wasmqtt/codec')), `${dir}codec-node.js`);
  const { encodePacket } = await import('wasmqtt/codec');
  // The codec works with no init() in Node: the module is read from the package's own folder.
  assert.deepEqual([...encodePacket({ cmd: 'pingreq' }, 4)], [0xc0, 0]);
  const client = await import('wasmqtt');
  assert.equal(client.encodePacket, undefined, 'the codec is not in the client entry');
  assert.equal(typeof client.connect, 'function');
});

test('every file of the package is within its size budget (BENCHMARKS.md, "Size budget")', () => {
  // Sizes are deterministic: a file over its budget fails here, in CI, not in a benchmark read
  // later. Lower a budget when a file shrinks; raise one only with the reason written beside it.
  const text = readFileSync(fileURLToPath(new URL('../../BENCHMARKS.md', import.meta.url)), 'utf8');
  const section = text.split('### Size budget')[1]?.split('\n### ')[0] ?? '';
  const budgets = [...section.matchAll(/^\| `([^`]+)` \| ([\d.]+) KB \|/gm)].map((m) => [m[1], Number(m[2])]);
  assert.deepEqual(budgets.map(([f]) => f).sort(), ['codec-node.js', 'codec.js', 'node.js', 'wasmqtt.js', 'wasmqtt_codec_bg.wasm', 'wasmqtt_core_bg.wasm'], 'a budget for each shipped code file');
  for (const [file, budget] of budgets) {
    const kb = gzipSync(readFileSync(`${dir}${file}`), { level: 9 }).length / 1024;
    assert.ok(kb <= budget, `${file}: ${kb.toFixed(1)} KB gzip, over its budget of ${budget} KB`);
  }
});

/** The function names of a wasm module's "name" section (subsection 1). */
function functionNames(bytes) {
  let at = 8; // magic and version
  const leb = () => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[at++];
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) return v;
    }
  };
  const text = new TextDecoder();
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    const end = at + size;
    if (id === 0) {
      const n = leb();
      const name = text.decode(bytes.subarray(at, at + n));
      at += n;
      if (name === 'name') {
        while (at < end) {
          const sub = bytes[at++];
          const subSize = leb();
          if (sub !== 1) {
            at += subSize;
            continue;
          }
          const names = [];
          for (let count = leb(); count > 0; count--) {
            leb(); // function index
            const len = leb();
            names.push(text.decode(bytes.subarray(at, at + len)));
            at += len;
          }
          return names;
        }
      }
    }
    at = end;
  }
  throw new Error('the module has no function names');
}

// xtask builds each shipped module a second time with its function names
// (target/pkg-build/<module>_names.wasm): names are stripped from what ships.
const namesOf = (module) => functionNames(readFileSync(new URL(`../../target/pkg-build/${module}_names.wasm`, import.meta.url)));

for (const module of ['wasmqtt_core', 'wasmqtt_codec']) {
  test(`no core::fmt in the package's wasm (${module}): messages are built by src/text.rs, not format! or Display`, () => {
    // Rust's formatting machinery costs the package about 3 KB gzip and is reached by any
    // format!, {:?}, to_string() through Display, or panic message.
    const names = namesOf(module);
    assert.ok(names.length > 150, `only ${names.length} function names: not the package's module?`);
    assert.ok(names.some((n) => n.includes('wasmqtt') && n.includes('Piece')), 'the names are demangled Rust paths');
    const fmt = names.filter((n) => /core(\[[0-9a-f]+\])?::fmt::/.test(n));
    assert.deepEqual(fmt, [], `core::fmt reached from the package (find the caller with twiggy paths)`);
  });
}

test("each entry's module carries only its own exports: no streaming parser in the client's, no client in the codec's", () => {
  const client = namesOf('wasmqtt_core');
  const codec = namesOf('wasmqtt_codec');
  assert.ok(client.some((n) => n.includes('RawClient')), 'the client module has the client');
  assert.ok(!client.some((n) => n.includes('RawParser')), "the client module carries the codec entry's parser");
  assert.ok(codec.some((n) => n.includes('RawParser')), 'the codec module has its parser');
  assert.ok(!codec.some((n) => /RawClient|proto::/.test(n)), "the codec module carries the client");
});
