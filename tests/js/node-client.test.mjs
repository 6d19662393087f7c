// The package's client in Node (Node 20 has no WebSocket of its own: the `ws` package's is
// used), against a fake broker and mosquitto on loopback.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import wasmqtt from './helpers.mjs';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startMosquitto } from './env.mjs';

globalThis.WebSocket ??= WebSocket;

let mosq;
after(async () => mosq?.close());

for (const seed of [1, 2, 3]) {
  test(`message handlers that grow wasm memory, re-enter and throw lose nothing of a batch, in Node (seed ${seed})`, async () => {
    // A handler's error is rethrown after its batch, as an uncaught exception (as MQTT.js's
    // are): the property runs in a process of its own that counts them (batches-node.mjs).
    const out = await new Promise((resolve, reject) => {
      execFile(process.execPath, [fileURLToPath(new URL('./batches-node.mjs', import.meta.url)), String(seed)], { timeout: 60000, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout));
      });
    });
    assert.deepEqual(out.got, out.sent);
    assert.ok(out.uncaught.some((e) => e.includes('handler batch/')), `the handlers' errors were reported, not swallowed: ${out.uncaught.slice(0, 3)}`);
    // Besides them, only what the handlers' own publishes ran into: publishes without a
    // callback that found the outbox full report it as 'error', which throws unheard.
    const other = out.uncaught.filter((e) => !e.includes('handler batch/') && !/outbox is full/.test(e));
    assert.deepEqual(other, []);
  });
}

test('QoS 0, 1, 2 round trips with mosquitto, in Node', async () => {
  mosq ??= await startMosquitto({});
  const c = await wasmqtt.connectAsync(mosq.ws, { clientId: 'node-rt', protocolVersion: 5 });
  const got = [];
  c.on('message', (topic, payload, packet) => got.push(`${topic}=${new TextDecoder().decode(payload)}@${packet.qos}`));
  await c.subscribeAsync('node/#', { qos: 2 });
  for (const qos of [0, 1, 2]) await c.publishAsync('node/' + qos, 'p' + qos, { qos });
  const deadline = Date.now() + 5000;
  while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await c.endAsync();
  assert.deepEqual(got.sort(), ['node/0=p0@0', 'node/1=p1@1', 'node/2=p2@2']);
});
