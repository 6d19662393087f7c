// The package loads in a browser as a plain ES module (<script type="module">, no bundler).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serveStatic, dumpDom } from './browser.mjs';

// What a page fetched, by file name: each entry loads its own wasm module and no other.
const fetched = "performance.getEntriesByType('resource').map((e) => e.name.split('/').pop()).filter((n) => n.endsWith('.js') || n.endsWith('.wasm')).sort().join(',')";

const page = `<!DOCTYPE html><html><body><pre id="out">not run</pre>
<script type="module">
  import init, { encodePacket, decodePacket, Parser } from '/pkg/codec.js';
  const out = document.getElementById('out');
  try {
    await init();
    const bytes = encodePacket({ cmd: 'publish', topic: 'a/b', payload: 'hi', qos: 1, messageId: 3 }, 5);
    const p = decodePacket(bytes, 5);
    const parsed = new Parser(5).push(bytes.subarray(0, 3)).length + new Parser(5).push(bytes).length;
    out.textContent = 'ok ' + p.topic + ' ' + new TextDecoder().decode(p.payload) + ' ' + p.messageId + ' ' + parsed + ' ' + ${fetched};
  } catch (e) {
    out.textContent = 'error ' + e;
  }
</script></body></html>`;

const clientPage = `<!DOCTYPE html><html><body><pre id="out">not run</pre>
<script type="module">
  import init, * as wasmqtt from '/pkg/wasmqtt.js';
  const out = document.getElementById('out');
  try {
    await init();
    const codecNames = ['encodePacket', 'decodePacket', 'Parser', 'MqttCodecError'].filter((n) => n in wasmqtt || n in wasmqtt.default);
    out.textContent = 'ok ' + typeof wasmqtt.connect + ' [' + codecNames.join(',') + '] ' + ${fetched};
  } catch (e) {
    out.textContent = 'error ' + e;
  }
</script></body></html>`;

test('pkg/codec.js (wasmqtt/codec) loads and runs in headless Chromium, fetching only its own module', { skip: process.env.WASMQTT_SKIP_BROWSER === '1' && 'browsers skipped (--quick)' }, async () => {
  const server = await serveStatic({ '/load.html': page });
  try {
    const dom = await dumpDom(`${server.url}/load.html`);
    assert.match(dom, /<pre id="out">ok a\/b hi 3 1 codec.js,wasmqtt_codec_bg.wasm<\/pre>/);
  } finally {
    await server.close();
  }
});

test('pkg/wasmqtt.js loads in headless Chromium without the codec: neither its exports nor its module', { skip: process.env.WASMQTT_SKIP_BROWSER === '1' && 'browsers skipped (--quick)' }, async () => {
  const server = await serveStatic({ '/client.html': clientPage });
  try {
    const dom = await dumpDom(`${server.url}/client.html`);
    assert.match(dom, /<pre id="out">ok function \[\] wasmqtt.js,wasmqtt_core_bg.wasm<\/pre>/);
  } finally {
    await server.close();
  }
});
