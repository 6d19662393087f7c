// The package's client in Node (Node 20 has no WebSocket of its own: the `ws` package's is
// used), against a fake broker and mosquitto on loopback.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import wasmqtt from './helpers.mjs';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { startMosquitto, waitFor as until } from './env.mjs';

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

test("import mqtt from 'wasmqtt' works as MQTT.js's: no init, mqtt:// over TCP, Buffers, credentials in the URL", async () => {
  // Issue 10, start-up: the default export is the `mqtt` object, the module loads its own wasm
  // (from the package's folder), and Node connects as MQTT.js does.
  mosq ??= await startMosquitto({});
  const { default: mqtt, connect } = await import('wasmqtt');
  assert.equal(typeof mqtt.connect, 'function');
  assert.equal(mqtt.connect, connect);
  const c = mqtt.connect(`mqtt://user:secret@127.0.0.1:${mosq.tcpPort}/?clientId=from-query`);
  assert.equal(c.options.username, 'user');
  assert.equal(c.options.password, 'secret');
  assert.equal(c.options.clientId, 'from-query');
  const got = new Promise((resolve) => c.on('message', (topic, payload, packet) => resolve({ topic, payload, packet })));
  await new Promise((resolve, reject) => { c.once('connect', resolve); c.once('error', reject); });
  await c.subscribeAsync('node/start', { qos: 1 });
  await c.publishAsync('node/start', 'hi there', { qos: 1 });
  const m = await got;
  assert.ok(Buffer.isBuffer(m.payload), 'payloads are Buffers in Node');
  assert.equal(m.payload.toString(), 'hi there');
  assert.equal(`${m.payload}`, 'hi there');
  await c.endAsync();
  // The codec is its own entry (as mqtt-packet is apart from MQTT.js), needs no init in Node
  // either, and gives Buffers as mqtt-packet does.
  assert.equal(mqtt.encodePacket, undefined, 'the client entry does not carry the codec');
  const codec = await import('wasmqtt/codec');
  assert.equal(codec.default.encodePacket, codec.encodePacket);
  const bytes = codec.encodePacket({ cmd: 'publish', topic: 't', payload: 'x', qos: 0 });
  assert.ok(Buffer.isBuffer(bytes));
  assert.ok(Buffer.isBuffer(codec.decodePacket(bytes).payload));
});

test('mqtts:// over TLS, with MQTT.js TLS options', async () => {
  const tls = await startMosquitto({ tls: true, extra: '' });
  try {
    // The test's certificate is for 127.0.0.1: trusted through `ca`, as MQTT.js users do.
    const { connectAsync } = await import('wasmqtt');
    const ca = tls.certificate.certPem;
    assert.ok(ca, 'the test broker has a certificate');
    await assert.rejects(connectAsync(`mqtts://127.0.0.1:${tls.mqttsPort}`, { clientId: 'tls-untrusted', reconnectPeriod: 0 }, false));
    const c = await connectAsync(`mqtts://127.0.0.1:${tls.mqttsPort}`, { clientId: 'tls', ca, reconnectPeriod: 0 });
    await c.publishAsync('tls/1', 'over tls', { qos: 1 });
    await c.endAsync();
  } finally {
    await tls.close();
  }
});

test('a URL Node cannot connect to is refused at once, with what to use', async () => {
  const { connect } = await import('wasmqtt');
  assert.throws(() => connect('http://127.0.0.1:1883'), /use ws:\/\/, wss:\/\/, mqtt:\/\/ or mqtts:\/\//);
  assert.throws(() => connect('not a url'), /not a broker URL/);
});

test('connectAsync rejects when the client gives up, never hangs (reconnection off, broker down)', async () => {
  // Found while writing these tests: with reconnectPeriod 0 a refused first attempt stopped
  // the client, and connectAsync (allowing retries) waited forever.
  const { connectAsync } = await import('wasmqtt');
  const port = await new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
  await assert.rejects(connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'gives-up', reconnectPeriod: 0 }), /ECONNREFUSED/);
  // Over TCP the error says TCP: it read "WebSocket abnormal closure ... (code 1006): TCP
  // connection to ... failed", a WebSocket the client never opened (seen in the cluster tests).
  const e = await connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'gives-up', reconnectPeriod: 0 }).catch((x) => x);
  assert.match(e.message, new RegExp(`TCP connection to 127\\.0\\.0\\.1:${port} failed: connect ECONNREFUSED`));
  assert.doesNotMatch(e.message, /WebSocket|code 1006/);
});

test('an option wasmqtt does not read is warned about once, never dropped silently', async () => {
  const { connect } = await import('wasmqtt');
  const warnings = [];
  const warn = console.warn;
  console.warn = (m) => warnings.push(String(m));
  try {
    for (let i = 0; i < 2; i++) {
      const c = connect('mqtt://127.0.0.1:9', { clientId: 'opts', manualConnect: true, keepAlive: 30, reschedulePings: true, reconnectPeriod: 0 });
      await c.endAsync(true);
    }
  } finally {
    console.warn = warn;
  }
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.match(warnings[0], /unknown option "keepAlive"/);
  assert.match(warnings[1], /MQTT.js option "reschedulePings" has no effect here/);
});

test('MQTT 3.1.1 bursts with mosquitto: QoS 2 keeps within its quota of 20 and loses nothing; QoS 1 goes past 20 in flight', async () => {
  mosq ??= await startMosquitto({});
  const { default: mqtt } = await import('mqtt');
  const url = `mqtt://127.0.0.1:${mosq.tcpPort}`;
  const observer = await mqtt.connectAsync(url, { clientId: 'burst-observer', protocolVersion: 4 });
  const got = new Map();
  observer.on('message', (t) => got.set(t, (got.get(t) ?? 0) + 1));
  await observer.subscribeAsync('burst/#', { qos: 2 });
  const c = await wasmqtt.connectAsync(url, { clientId: 'burst', protocolVersion: 4 });
  const N = 300;
  for (const qos of [2, 1]) {
    const all = Promise.all(Array.from({ length: N }, (_, i) => c.publishAsync(`burst/${qos}/${i}`, 'x', { qos })));
    // The driver sends on a microtask after the calls; no acknowledgement can have come back
    // before the next macrotask, so this is how many the window let out at once.
    await Promise.resolve();
    await Promise.resolve();
    const maxInflight = c.getMetrics().inflightOut;
    await all;
    await until(() => [...got.keys()].filter((t) => t.startsWith(`burst/${qos}/`)).length === N, 15000, `${N} QoS ${qos} messages at the observer`);
    const dups = [...got].filter(([t, n]) => t.startsWith(`burst/${qos}/`) && n > 1);
    assert.deepEqual(dups, [], `QoS ${qos}: delivered more than once`);
    // QoS 2: mosquitto's quota, exactly; QoS 1: all of them (packet identifiers are the limit).
    assert.equal(maxInflight, qos === 2 ? 20 : N, `QoS ${qos} messages in flight at once`);
  }
  await c.endAsync();
  await observer.endAsync();
});
