// The package loads in a browser as a plain ES module (<script type="module">, no bundler).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serveStatic, dumpDom } from './browser.mjs';

const page = `<!DOCTYPE html><html><body><pre id="out">not run</pre>
<script type="module">
  import init, { encodePacket, decodePacket, Parser } from '/pkg/wasmqtt.js';
  const out = document.getElementById('out');
  try {
    await init();
    const bytes = encodePacket({ cmd: 'publish', topic: 'a/b', payload: 'hi', qos: 1, messageId: 3 }, 5);
    const p = decodePacket(bytes, 5);
    const parsed = new Parser(5).push(bytes.subarray(0, 3)).length + new Parser(5).push(bytes).length;
    out.textContent = 'ok ' + p.topic + ' ' + new TextDecoder().decode(p.payload) + ' ' + p.messageId + ' ' + parsed;
  } catch (e) {
    out.textContent = 'error ' + e;
  }
</script></body></html>`;

test('pkg/wasmqtt.js loads and runs in headless Chromium', { skip: process.env.WASMQTT_SKIP_BROWSER === '1' && 'browsers skipped (--quick)' }, async () => {
  const server = await serveStatic({ '/load.html': page });
  try {
    const dom = await dumpDom(`${server.url}/load.html`);
    assert.match(dom, /<pre id="out">ok a\/b hi 3 1<\/pre>/);
  } finally {
    await server.close();
  }
});
