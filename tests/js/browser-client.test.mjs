// Page-level tests of the npm package in real headless Chromium against real brokers on
// loopback: mosquitto (MQTT 3.1.1 and 5.0, plain and TLS WebSockets) and aedes (a second,
// independent broker). The tests start and stop every broker, proxy and page themselves.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { WebSocketServer } from 'ws';
import { batchBroker, driveBatches } from './batches.mjs';
import { startMosquitto, startAedes, startProxy, serveStatic, launchBrowser, clientPage, sleep, inlineScriptRuns, waitFor } from './env.mjs';

const SKIP = process.env.WASMQTT_SKIP_BROWSER === '1' && 'browsers skipped (--quick)';

/** An MQTT.js observer over TCP (a test tool, not the client under test). */
async function observer(port, topic, opts = {}) {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'observer-' + Math.random().toString(16).slice(2), ...opts });
  const messages = [];
  c.on('message', (t, p, packet) => messages.push({ topic: t, payload: p.toString(), qos: packet.qos, retain: packet.retain, dup: packet.dup, id: packet.messageId }));
  await c.subscribeAsync(topic, { qos: 2 });
  return { client: c, messages };
}

describe('wasmqtt in headless Chromium', { skip: SKIP }, () => {
  let mosq;
  let aedes;
  let server;
  let browser;

  before(async () => {
    mosq = await startMosquitto({ tls: true, extra: 'max_queued_messages 200000' });
    aedes = await startAedes();
    server = await serveStatic();
    browser = await launchBrowser({ trustSpki: mosq.certificate.spki });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await aedes?.close();
    await mosq?.close();
  });

  const roundTrip = async (url, protocolVersion) => {
    const page = await clientPage(browser, server);
    try {
      return await page.evaluate(async ({ url, protocolVersion }) => {
        const c = await wasmqtt.connectAsync(url, { protocolVersion, clientId: 'rt-' + protocolVersion + Math.random() });
        const got = [];
        c.on('message', (topic, payload, packet) => got.push({ topic, text: new TextDecoder().decode(payload), qos: packet.qos }));
        const granted = await c.subscribeAsync('rt/#', { qos: 2 });
        // MQTT.js style: callbacks as well as promises.
        const acked = await new Promise((resolve) => {
          const codes = [];
          for (const qos of [0, 1, 2]) {
            c.publish('rt/' + qos, 'payload ' + qos, { qos }, (err) => {
              codes.push(err ? String(err) : 'ok' + qos);
              if (codes.length === 3) resolve(codes);
            });
          }
        });
        const deadline = Date.now() + 5000;
        while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        await c.endAsync();
        return { granted, acked, got: got.sort((a, b) => a.topic.localeCompare(b.topic)) };
      }, { url, protocolVersion });
    } finally {
      await page.close();
    }
  };

  const expected = [0, 1, 2].map((qos) => ({ topic: 'rt/' + qos, text: 'payload ' + qos, qos }));

  it('the example page (the package without a framework) connects, subscribes, publishes, shows text literally', async () => {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('dialog', (d) => { errors.push('dialog: ' + d.message()); d.dismiss(); });
    try {
      await page.goto(`${server.url}/examples/plain/index.html?broker=${encodeURIComponent(mosq.ws)}`);
      await page.waitForFunction(() => window.exampleReady === true);
      await page.click('#connect button');
      await page.waitForSelector('#state[data-state=connected]', { timeout: 10000 });
      await page.fill('#subscribe input[name=topic]', 'example/#');
      await page.click('#subscribe button');
      await page.waitForFunction(() => document.getElementById('error').textContent.startsWith('subscribed'));
      const xss = '<img src=x onerror=alert(1)>';
      await page.fill('#publish input[name=topic]', 'example/xss');
      await page.fill('#publish input[name=payload]', xss);
      await page.click('#publish button');
      await page.waitForFunction(() => document.querySelectorAll('#messages li').length === 1);
      const item = await page.evaluate(() => {
        const li = document.querySelector('#messages li');
        return { text: li.textContent, images: li.querySelectorAll('img').length };
      });
      assert.equal(item.text, `example/xss ${xss}`);
      assert.equal(item.images, 0);
      assert.deepEqual(errors, []);
      // Defect 18 of the reliability issue: a Content-Security-Policy, so that even injected
      // markup could not run script.
      assert.equal(await inlineScriptRuns(page), false, 'an inline script ran');
    } finally {
      await page.close();
    }
  });

  it('QoS 0, 1, 2 round trips with mosquitto over MQTT 3.1.1', async () => {
    const r = await roundTrip(mosq.ws, 4);
    assert.deepEqual(r.granted, [{ topic: 'rt/#', qos: 2 }]);
    assert.deepEqual(r.acked.sort(), ['ok0', 'ok1', 'ok2']);
    assert.deepEqual(r.got, expected);
  });

  it('QoS 0, 1, 2 round trips with mosquitto over MQTT 5.0', async () => {
    const r = await roundTrip(mosq.ws, 5);
    assert.deepEqual(r.got, expected);
  });

  it('QoS 0, 1, 2 round trips with aedes, a second independent broker', async () => {
    const r = await roundTrip(aedes.ws, 4);
    assert.deepEqual(r.got, expected);
  });

  it('wss:// through a TLS WebSocket listener with a certificate made by the test', async () => {
    const r = await roundTrip(mosq.wss, 5);
    assert.deepEqual(r.got, expected);
  });

  for (const seed of [1, 2, 3]) {
    it(`message handlers that grow wasm memory, re-enter and throw lose nothing of a batch (seed ${seed})`, async () => {
      // Defect 1 of the reliability issue: after a handler grew wasm memory, the rest of the
      // batch was read from a detached buffer and lost, and the topic cache went out of step;
      // a throwing handler lost the rest of its batch too (batches.mjs; node-client.test.mjs
      // runs the same in Node).
      const n = 300;
      const broker = await batchBroker(seed, n);
      const page = await clientPage(browser, server);
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e.message ?? e)));
      try {
        const got = await page.evaluate(driveBatches, { url: broker.url, seed, n });
        assert.deepEqual(got, broker.sent);
        assert.ok(errors.some((e) => e.includes('handler batch/')), 'the handlers\' errors were reported, not swallowed');
      } finally {
        await page.close();
        broker.close();
      }
    });
  }

  it('100 clients created and ended leave no Worker and no page listener behind', async () => {
    // Defect 11 of the reliability issue: every client kept its timer Worker and its window
    // and document listeners after end(), and the dispatch closure kept the client alive.
    const page = await clientPage(browser, server);
    try {
      const r = await page.evaluate(async (url) => {
        let workers = 0;
        const W = window.Worker;
        window.Worker = class extends W {
          constructor(...a) { super(...a); workers++; }
          terminate() { workers--; super.terminate(); }
        };
        const listening = {};
        const add = EventTarget.prototype.addEventListener;
        const remove = EventTarget.prototype.removeEventListener;
        const watched = (t) => t === window || t === document;
        EventTarget.prototype.addEventListener = function (type, f, o) {
          if (watched(this)) listening[type] = (listening[type] ?? 0) + 1;
          return add.call(this, type, f, o);
        };
        EventTarget.prototype.removeEventListener = function (type, f, o) {
          if (watched(this)) listening[type] = (listening[type] ?? 0) - 1;
          return remove.call(this, type, f, o);
        };
        const before = { ...listening };
        let peakWorkers = 0;
        for (let i = 0; i < 100; i++) {
          const c = await wasmqtt.connectAsync(url, { clientId: 'cycle-' + i });
          peakWorkers = Math.max(peakWorkers, workers);
          await c.endAsync();
        }
        const left = Object.entries(listening).filter(([t, n]) => n !== (before[t] ?? 0));
        EventTarget.prototype.addEventListener = add;
        EventTarget.prototype.removeEventListener = remove;
        window.Worker = W;
        return { workers, peakWorkers, left };
      }, mosq.ws);
      assert.ok(r.peakWorkers >= 1, 'the clients ran with their Worker timer');
      assert.equal(r.workers, 0, `${r.workers} Workers left`);
      assert.deepEqual(r.left, []);
    } finally {
      await page.close();
    }
  });

  it('ended clients that the application dropped are collected, with their wasm side', async () => {
    // Defect 11 of the reliability issue, its memory side: the dispatch closure held by wasm
    // reached the MqttClient strongly, so a client and its wasm state lived for the page's
    // life. Clients are ended and dropped; after garbage collection (forced through the
    // DevTools protocol) none may be reachable, and their wasm objects must be freed.
    const page = await clientPage(browser, server);
    try {
      await page.evaluate(async (url) => {
        window.refs = [];
        window.freed = 0;
        const registry = new FinalizationRegistry(() => { window.freed++; });
        for (let i = 0; i < 20; i++) {
          const c = await wasmqtt.connectAsync(url, { clientId: 'gc-' + i });
          c.on('message', () => {});
          await c.subscribeAsync('gc/' + i);
          await c.endAsync();
          window.refs.push(new WeakRef(c));
          registry.register(c._raw, i);
        }
        window.registry = registry;
      }, mosq.ws);
      const cdp = await page.context().newCDPSession(page);
      let alive = -1;
      let freed = -1;
      for (let i = 0; i < 20 && (alive !== 0 || freed !== 20); i++) {
        await cdp.send('HeapProfiler.collectGarbage');
        await sleep(100);
        [alive, freed] = await page.evaluate(() => [window.refs.filter((r) => r.deref() !== undefined).length, window.freed]);
      }
      assert.equal(alive, 0, `${alive} of 20 ended and dropped clients are still reachable`);
      assert.equal(freed, 20, 'the clients\' wasm objects were collected');
    } finally {
      await page.close();
    }
  });

  it('a hung IndexedDB does not stop connecting: the session goes on in memory and the error says so', async () => {
    // Defect 13 of the reliability issue: a persistent session first loads from IndexedDB, and
    // an open that never answered blocked connecting forever. Here the page makes IndexedDB
    // hang as it does in the wild: a version upgrade is blocked by a connection that does not
    // close, and every later open of the database waits behind it.
    const page = await clientPage(browser, server);
    try {
      const r = await page.evaluate(async (url) => {
        const held = await new Promise((resolve, reject) => {
          const req = indexedDB.open('wasmqtt');
          req.onsuccess = () => resolve(req.result);
          req.onerror = () => reject(req.error);
        });
        let blocked = false;
        const upgrade = indexedDB.open('wasmqtt', held.version + 1000);
        upgrade.onblocked = () => { blocked = true; };
        // When it is let through at the end, the upgrade is abandoned: the version stays.
        upgrade.onupgradeneeded = (e) => e.target.transaction.abort();
        upgrade.onerror = (e) => e.preventDefault();
        const errors = [];
        const started = performance.now();
        const c = wasmqtt.connect(url, { clientId: 'idb-hung', clean: false });
        c.on('error', (e) => errors.push({ kind: e.kind, message: e.message }));
        const connected = await new Promise((resolve) => {
          c.once('connect', () => resolve(true));
          setTimeout(() => resolve(false), 15000);
        });
        const waited = performance.now() - started;
        const acked = connected && await new Promise((resolve) => c.publish('idb/hung', 'x', { qos: 1 }, (e) => resolve(!e)));
        await c.endAsync();
        held.close();
        return { blocked, connected, waited, acked, errors };
      }, mosq.ws);
      assert.ok(r.blocked, 'the test made IndexedDB hang');
      assert.ok(r.connected, `connected despite IndexedDB (errors: ${JSON.stringify(r.errors)})`);
      assert.ok(r.waited >= 2500, `waited ${r.waited} ms for IndexedDB first`);
      assert.ok(r.acked, 'a QoS 1 publish completed on the in-memory session');
      assert.ok(r.errors.some((e) => e.kind === 'PERSISTENCE' && /did not answer|timed out|time/i.test(e.message)), JSON.stringify(r.errors));
    } finally {
      await page.close();
    }
  });

  it('a payload larger than the outbox is refused from its size, before it is copied into wasm memory', async () => {
    // Defect 10 of the reliability issue: a payload was copied into wasm memory (which never
    // shrinks) and again inside it before its size was checked.
    const page = await clientPage(browser, server);
    try {
      const r = await page.evaluate(async (url) => {
        const c = await wasmqtt.connectAsync(url, { clientId: 'too-large', outbox: { maxBytes: 1 << 20 } });
        // Found by type: the package's build shortens export names.
        const wasmMemory = Object.values(window.wasmExports).find((v) => v instanceof WebAssembly.Memory);
        const memory = () => wasmMemory.buffer.byteLength;
        const before = memory();
        const outcome = (payload) => new Promise((resolve) => c.publish('big/one', payload, { qos: 1 }, (e) => resolve(e ? e.kind : 'ok')));
        const bytes = await outcome(new Uint8Array(40 << 20));
        const text = await outcome('x'.repeat(20 << 20));
        const fits = await outcome(new Uint8Array(512 << 10));
        const grew = memory() - before;
        await c.endAsync();
        return { bytes, text, fits, grew };
      }, mosq.ws);
      assert.equal(r.bytes, 'MESSAGE_TOO_LARGE');
      assert.equal(r.text, 'MESSAGE_TOO_LARGE');
      assert.equal(r.fits, 'ok');
      assert.ok(r.grew < 8 << 20, `wasm memory grew by ${r.grew} bytes`);
    } finally {
      await page.close();
    }
  });

  it('the will is published on abrupt loss and not after end()', async () => {
    const obs = await observer(mosq.tcpPort, 'wills/#');
    const proxy = await startProxy(mosq.wsPort);
    const page = await clientPage(browser, server);
    try {
      await page.evaluate(async ({ url }) => {
        const will = (id) => ({ topic: 'wills/' + id, payload: 'offline', qos: 1, retain: false });
        window.crasher = await wasmqtt.connectAsync(url, { clientId: 'crasher', will: will('crasher'), reconnectPeriod: 0 });
        window.polite = await wasmqtt.connectAsync(url, { clientId: 'polite', will: will('polite') });
      }, { url: proxy.ws });
      await page.evaluate(() => window.polite.endAsync());
      proxy.cut();
      await waitFor(() => obs.messages.length > 0, 5000, 'the will');
      await sleep(1000);
      assert.deepEqual(obs.messages.map((m) => m.topic), ['wills/crasher']);
    } finally {
      await page.close();
      await proxy.close();
      await obs.client.endAsync();
    }
  });

  it('a stalled link is noticed within 1.5x keep-alive and the client reconnects when it returns', async () => {
    const proxy = await startProxy(mosq.wsPort);
    const page = await clientPage(browser, server);
    try {
      await page.evaluate(async (url) => {
        window.events = [];
        window.c = await wasmqtt.connectAsync(url, { clientId: 'stall', keepalive: 4, reconnectPeriod: 200 });
        window.c.on('close', (err) => window.events.push({ e: 'close', kind: err?.kind, t: performance.now() }));
        window.c.on('connect', () => window.events.push({ e: 'connect', t: performance.now() }));
      }, proxy.ws);
      const stalledAt = await page.evaluate(() => performance.now());
      proxy.stall();
      await waitFor(() => page.evaluate(() => window.events.some((e) => e.e === 'close')), 10000, 'the dead link');
      const closed = await page.evaluate(() => window.events.find((e) => e.e === 'close'));
      assert.equal(closed.kind, 'KEEPALIVE_TIMEOUT');
      // Nothing was sent for at most 4 s before the stall began: dead within 1.5 x 4 s of that.
      assert.ok(closed.t - stalledAt <= 6000 + 250, `noticed after ${closed.t - stalledAt} ms`);
      proxy.cut();
      proxy.resume();
      await waitFor(() => page.evaluate(() => window.events.some((e) => e.e === 'connect')), 10000, 'the reconnection');
      await page.evaluate(() => window.c.endAsync());
    } finally {
      await page.close();
      await proxy.close();
    }
  });

  it('end() completes when the link drops during its graceful drain, and later calls fail at once', async () => {
    // Defects 4 and 14 of the reliability issue: end() never completed after the drop, and a
    // publish after end() waited silently forever.
    const proxy = await startProxy(mosq.wsPort);
    const page = await clientPage(browser, server);
    try {
      await page.evaluate(async (url) => {
        window.c = await wasmqtt.connectAsync(url, { clientId: 'drain-drop', reconnectPeriod: 200 });
      }, proxy.ws);
      proxy.stall();
      await page.evaluate(() => {
        window.outcome = {};
        window.c.publish('drain/x', 'never acknowledged', { qos: 1 }, (err) => { window.outcome.publish = err ? err.kind : 'ok'; });
        window.c.endAsync().then(() => { window.outcome.ended = true; });
      });
      await sleep(300);
      assert.equal(await page.evaluate(() => window.outcome.ended), undefined, 'end() waits for the PUBACK');
      proxy.cut();
      await waitFor(() => page.evaluate(() => window.outcome.ended === true), 5000, 'end() to complete');
      assert.equal(await page.evaluate(() => window.outcome.publish), 'CANCELLED');
      const late = await page.evaluate(() => window.c.publishAsync('drain/y', 'late', { qos: 1 }).then(() => 'resolved', (e) => e.kind));
      assert.equal(late, 'ENDED');
    } finally {
      await page.close();
      await proxy.close();
    }
  });

  it('a frozen broker is noticed within 1.5x keep-alive', async () => {
    const frozen = await startMosquitto();
    const page = await clientPage(browser, server);
    try {
      await page.evaluate(async (url) => {
        window.closeSeen = null;
        window.c = await wasmqtt.connectAsync(url, { clientId: 'frozen', keepalive: 3 });
        window.c.on('close', (err) => { window.closeSeen ??= { kind: err?.kind, t: performance.now() }; });
      }, frozen.ws);
      const t0 = await page.evaluate(() => performance.now());
      frozen.freeze();
      await waitFor(() => page.evaluate(() => window.closeSeen !== null), 8000, 'the frozen broker');
      const closed = await page.evaluate(() => window.closeSeen);
      assert.equal(closed.kind, 'KEEPALIVE_TIMEOUT');
      assert.ok(closed.t - t0 <= 4500 + 250, `noticed after ${closed.t - t0} ms`);
      frozen.thaw();
      await page.evaluate(() => window.c.endAsync());
    } finally {
      await page.close();
      await frozen.close();
    }
  });

  it('publishes made while offline are delivered after reconnecting', async () => {
    const proxy = await startProxy(mosq.wsPort);
    const obs = await observer(mosq.tcpPort, 'offline/#');
    const page = await clientPage(browser, server);
    try {
      await page.evaluate(async (url) => {
        window.c = await wasmqtt.connectAsync(url, { clientId: 'offline-pub', reconnectPeriod: 300 });
      }, proxy.ws);
      // The broker becomes unreachable: the connection drops and new ones are refused.
      proxy.block();
      proxy.cut();
      await page.waitForFunction(() => !window.c.connected);
      await page.evaluate(() => {
        window.done = [];
        for (let i = 0; i < 20; i++) window.c.publish('offline/' + i, 'queued ' + i, { qos: i % 3 }, (err) => window.done.push(err ? String(err) : i));
      });
      await sleep(1000);
      assert.equal(obs.messages.length, 0);
      proxy.unblock();
      await waitFor(() => obs.messages.length === 20, 10000, `20 messages (got ${obs.messages.length})`);
      assert.deepEqual(obs.messages.map((m) => m.payload).sort(), Array.from({ length: 20 }, (_, i) => 'queued ' + i).sort());
      await page.evaluate(() => window.c.endAsync());
    } finally {
      await page.close();
      await proxy.close();
      await obs.client.endAsync();
    }
  });

  it('malformed bytes from a server close the connection with a clear error and deliver nothing', async () => {
    // A fake broker: accepts the WebSocket, answers CONNECT with CONNACK, then sends a PUBLISH
    // with both QoS bits set [MQTT-3.3.1-4], then a text frame on the next connection.
    const http = createServer();
    const wss = new WebSocketServer({ server: http, handleProtocols: () => 'mqtt' });
    let connections = 0;
    wss.on('connection', (ws) => {
      connections += 1;
      const n = connections;
      ws.once('message', () => {
        ws.send(Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]));
        setTimeout(() => (n === 1 ? ws.send(Buffer.from([0x36, 0x06, 0x00, 0x01, 0x61, 0x00, 0x01, 0x00])) : ws.send('a text frame')), 100);
      });
    });
    await new Promise((r) => http.listen(0, '127.0.0.1', r));
    const url = `ws://127.0.0.1:${http.address().port}/mqtt`;
    const page = await clientPage(browser, server);
    try {
      const r = await page.evaluate(async (url) => {
        const out = { errors: [], messages: 0, closes: [] };
        const c = wasmqtt.connect(url, { clientId: 'victim', protocolVersion: 5, reconnectPeriod: 200 });
        c.on('message', () => { out.messages += 1; });
        c.on('error', (e) => out.errors.push({ kind: e.kind, code: e.code, message: e.message }));
        c.on('close', (e) => out.closes.push(e ? e.message : null));
        const deadline = Date.now() + 5000;
        while (out.closes.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        c.end(true);
        return out;
      }, url);
      assert.equal(r.messages, 0);
      assert.equal(r.errors[0].kind, 'MALFORMED_PACKET');
      assert.equal(r.errors[0].code, 0x81);
      assert.match(r.errors[0].message, /MQTT-3\.3\.1-4/);
      assert.match(r.closes[1], /text frame/);
    } finally {
      await page.close();
      wss.close();
      http.close();
    }
  });

  it('two pages with the same client id stop fighting', async () => {
    const a = await clientPage(browser, server);
    const b = await clientPage(browser, server);
    try {
      const start = (page) => page.evaluate((url) => {
        window.stats = { connects: 0, errors: [] };
        window.c = wasmqtt.connect(url, { clientId: 'twin', reconnectPeriod: 500 });
        window.c.on('connect', () => { window.stats.connects += 1; });
        window.c.on('error', (e) => window.stats.errors.push(e.kind));
      }, mosq.ws);
      await start(a);
      await sleep(300);
      await start(b);
      await waitFor(async () => {
        const s = await Promise.all([a, b].map((p) => p.evaluate(() => window.stats)));
        return s.some((x) => x.errors.includes('SUSPECTED_TAKEOVER'));
      }, 45000, 'one twin to give up');
      await sleep(3000);
      const [sa, sb] = await Promise.all([a, b].map((p) => p.evaluate(() => ({ ...window.stats, connected: window.c.connected }))));
      assert.equal([sa, sb].filter((s) => s.connected).length, 1, JSON.stringify([sa, sb]));
      assert.equal([sa, sb].filter((s) => s.errors.includes('SUSPECTED_TAKEOVER')).length, 1);
      assert.ok(sa.connects + sb.connects <= 12, `${sa.connects + sb.connects} connections before settling`);
      // Settled: nobody is reconnecting any more.
      const before = sa.connects + sb.connects;
      await sleep(3000);
      const after = (await Promise.all([a, b].map((p) => p.evaluate(() => window.stats.connects)))).reduce((x, y) => x + y);
      assert.equal(after, before);
    } finally {
      for (const p of [a, b]) await p.evaluate(() => window.c.end(true)).catch(() => {});
      await a.close();
      await b.close();
    }
  });

  it('backs off with jitter while the broker is down, and reconnects at once when back online', async () => {
    const down = await startMosquitto();
    const page = await clientPage(browser, server);
    const context = page.context();
    try {
      await page.evaluate(async (url) => {
        window.attempts = [];
        window.c = await wasmqtt.connectAsync(url, { clientId: 'backoff', reconnectPeriod: 250, reconnect: { maxDelay: 4000 } });
        window.c.on('reconnect', () => window.attempts.push(performance.now()));
      }, down.ws);
      await down.stop();
      await sleep(12000);
      const attempts = await page.evaluate(() => window.attempts);
      const gaps = attempts.slice(1).map((t, i) => t - attempts[i]);
      // A fixed 250 ms period would make ~48 attempts; exponential backoff capped at 4 s makes
      // far fewer, and full jitter makes the gaps differ.
      assert.ok(attempts.length >= 3 && attempts.length <= 20, `${attempts.length} attempts: ${gaps}`);
      assert.ok(new Set(gaps.map((g) => Math.round(g / 10))).size > 1, `gaps all equal: ${gaps}`);
      // Offline: no attempts are burned.
      await context.setOffline(true);
      await sleep(300);
      const offlineFrom = await page.evaluate(() => window.attempts.length);
      await sleep(5000);
      assert.equal(await page.evaluate(() => window.attempts.length), offlineFrom, 'attempts while offline');
      assert.equal(await page.evaluate(() => window.c.state), 'offline');
      await down.restart();
      const t0 = await page.evaluate(() => performance.now());
      await context.setOffline(false);
      await page.waitForFunction(() => window.c.connected, null, { timeout: 5000 });
      const t1 = await page.evaluate(() => performance.now());
      assert.ok(t1 - t0 < 1500, `reconnected ${t1 - t0} ms after coming back online`);
      await page.evaluate(() => window.c.endAsync());
    } finally {
      await context.setOffline(false);
      await page.close();
      await down.close();
    }
  });

  it('a 1 MiB payload makes the round trip', async () => {
    // aedes: mosquitto's WebSocket listener sends large messages slowly (TOOLCHAIN.md).
    const page = await clientPage(browser, server);
    try {
      const r = await page.evaluate(async (url) => {
        const c = await wasmqtt.connectAsync(url, { clientId: 'big' });
        await c.subscribeAsync('big/1', { qos: 1 });
        const payload = new Uint8Array(1 << 20);
        for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
        const got = new Promise((resolve) => c.on('message', (t, p) => resolve(p)));
        await c.publishAsync('big/1', payload, { qos: 1 });
        const p = await got;
        let same = p.length === payload.length;
        for (let i = 0; same && i < p.length; i++) same = p[i] === payload[i];
        await c.endAsync();
        return { length: p.length, same };
      }, aedes.ws);
      assert.deepEqual(r, { length: 1 << 20, same: true });
    } finally {
      await page.close();
    }
  });

  it('a burst of 100,000 QoS 0 publishes is all delivered', async () => {
    const obs = await observer(mosq.tcpPort, 'burst/#');
    let count = 0;
    obs.client.on('message', () => { count += 1; });
    const page = await clientPage(browser, server);
    try {
      const r = await page.evaluate(async (url) => {
        const c = await wasmqtt.connectAsync(url, { clientId: 'burst' });
        let written = 0;
        const t0 = performance.now();
        for (let i = 0; i < 100000; i++) c.publish('burst/t', 'message ' + i, { qos: 0 }, () => { written += 1; });
        while (written < 100000) await new Promise((r) => setTimeout(r, 20));
        const ms = performance.now() - t0;
        window.c = c;
        return { written, ms };
      }, mosq.ws);
      assert.equal(r.written, 100000);
      await waitFor(() => count >= 100000, 60000, `100,000 messages (got ${count})`);
      assert.equal(count, 100000);
      await page.evaluate(() => window.c.endAsync());
    } finally {
      await page.close();
      await obs.client.endAsync();
    }
  });

  it('QoS 1 without loss and QoS 2 exactly once across a broker restart', async () => {
    const b = await startMosquitto({ extra: 'max_queued_messages 100000\nlog_type all' });
    // The observer (MQTT.js) reconnects by itself: its `reconnect()` would start from empty
    // stores and forget the QoS 2 messages it is in the middle of receiving.
    const obs = await observer(b.tcpPort, 'restart/#', { clean: false, clientId: 'restart-observer', reconnectPeriod: 100 });
    const page = await clientPage(browser, server);
    try {
      await page.evaluate(async (url) => {
        window.c = await wasmqtt.connectAsync(url, {
          clientId: 'restart-pub', protocolVersion: 5, clean: false, reconnectPeriod: 200,
          properties: { sessionExpiryInterval: 3600 }, persistence: 'volatile',
        });
        window.done = { ok: 0, err: [] };
        window.publishRange = (from, to) => {
          for (let i = from; i < to; i++) {
            window.c.publish('restart/q' + (1 + (i % 2)), String(i), { qos: 1 + (i % 2) }, (err) => (err ? window.done.err.push(String(err)) : window.done.ok++));
          }
        };
        window.publishRange(0, 150);
      }, b.ws);
      await sleep(30);
      const observerBack = new Promise((resolve) => obs.client.once('connect', resolve));
      await b.restart();
      await observerBack;
      await page.evaluate(() => window.publishRange(150, 300));
      await waitFor(() => page.evaluate(() => window.done.ok + window.done.err.length === 300), 30000, 'every publish to complete');
      assert.deepEqual(await page.evaluate(() => window.done.err), []);
      await waitFor(() => new Set(obs.messages.map((m) => m.payload)).size === 300, 30000, `300 distinct messages (got ${new Set(obs.messages.map((m) => m.payload)).size})`);
      // Defect 17 of the reliability issue, found: mosquitto (2.0) restores a QoS 2 message it
      // was sending to the observer at its PUBLISH stage even after it had sent PUBREL, and
      // sends the PUBLISH again (DUP, same identifier) after the restart, against "the Sender
      // MUST NOT re-send the PUBLISH once it has sent the corresponding PUBREL" (3.1.1 4.3.3,
      // [MQTT-4.3.3-1]; 5.0 [MQTT-4.3.3-6]). The observer had completed that identifier, so it
      // rightly takes the resend for a new message. Those copies are the broker's, on its way
      // to the observer, and the broker's log shows each; any other copy is a duplicate of
      // wasmqtt's publishing and fails the test.
      const log = b.log().split('\n');
      const saved = log.findIndex((l) => l.includes('Saving in-memory database'));
      const brokerResend = (first, again) => again.dup && again.id === first.id && saved > 0 &&
        log.slice(0, saved).some((l) => l.includes(`Sending PUBREL to restart-observer (m${first.id})`)) &&
        log.slice(saved).some((l) => l.includes(`Sending PUBLISH to restart-observer (d1, q2, r0, m${first.id},`));
      const deliveries = new Map();
      for (const m of obs.messages) if (m.topic === 'restart/q2') deliveries.set(m.payload, [...(deliveries.get(m.payload) ?? []), m]);
      const unexplained = [...deliveries].filter(([, v]) => v.slice(1).some((again) => !brokerResend(v[0], again)));
      const resent = [...deliveries].filter(([, v]) => v.length > 1).length - unexplained.length;
      if (resent > 0) console.error(`mosquitto sent ${resent} completed QoS 2 messages to the observer again after its restart (see the test's comment)`);
      if (unexplained.length > 0) {
        console.error('duplicated QoS 2 messages (payload, deliveries):', JSON.stringify(unexplained.slice(0, 8)));
        // Every form mosquitto logs an identifier in: "m49," (PUBLISH), "(m49)" and "Mid: 49)".
        const ids = [...new Set(unexplained.flatMap(([, v]) => v.map((m) => m.id)))];
        const mentions = (l) => ids.some((id) => l.includes(`m${id},`) || l.includes(`(m${id})`) || l.includes(`Mid: ${id})`));
        console.error('broker log lines for their packet ids, and connections:\n' +
          log.filter((l) => /onnect|aving in-memory/.test(l) || mentions(l)).slice(-300).join('\n'));
      }
      assert.deepEqual(unexplained.map(([payload]) => payload), [], 'a QoS 2 message was duplicated');
      await page.evaluate(() => window.c.endAsync());
    } finally {
      await page.close();
      await obs.client.endAsync(true);
      await b.close();
    }
  });

  it('QoS 1 without loss and QoS 2 exactly once across a page reload', async () => {
    const proxy = await startProxy(mosq.wsPort);
    const obs = await observer(mosq.tcpPort, 'reload/#');
    const page = await clientPage(browser, server);
    const options = { clientId: 'reloader', protocolVersion: 5, clean: false, reconnectPeriod: 200, properties: { sessionExpiryInterval: 3600 }, persistenceKey: 'reload-test' };
    try {
      await page.evaluate(async ({ url, options }) => {
        window.c = await wasmqtt.connectAsync(url, options);
        window.c.clearStoredSession();
      }, { url: proxy.ws, options });
      // The link stalls: messages go out but acknowledgements never come back; more queue up.
      proxy.stall();
      await page.evaluate(() => {
        for (let i = 0; i < 40; i++) window.c.publish('reload/q' + (1 + (i % 2)), String(i), { qos: 1 + (i % 2) });
      });
      await sleep(1000);
      // Reload: the session (in flight and queued) comes back from IndexedDB.
      await page.reload();
      await page.waitForFunction(() => window.wasmqttReady === true);
      proxy.cut();
      proxy.resume();
      await page.evaluate(async ({ url, options }) => {
        window.c = wasmqtt.connect(url, options);
      }, { url: proxy.ws, options });
      await waitFor(() => new Set(obs.messages.map((m) => m.payload)).size === 40, 20000, `40 distinct messages (got ${new Set(obs.messages.map((m) => m.payload)).size})`);
      await sleep(1000);
      const q2 = obs.messages.filter((m) => m.topic === 'reload/q2').map((m) => m.payload);
      assert.equal(q2.length, 20);
      assert.equal(new Set(q2).size, 20, 'a QoS 2 message was duplicated');
      await page.evaluate(() => { window.c.clearStoredSession(); return window.c.endAsync(); });
    } finally {
      await page.close();
      await proxy.close();
      await obs.client.endAsync();
    }
  });

  it('a persistent session is saved incrementally: each message written once, the index small', async () => {
    // Defect 6 of the reliability issue: every save wrote the whole session again, so a queue
    // of n messages cost n^2 / 2 message writes. The page counts what reaches IndexedDB.
    const page = await clientPage(browser, server);
    try {
      const r = await page.evaluate(async () => {
        let written = 0;
        const put = IDBObjectStore.prototype.put;
        IDBObjectStore.prototype.put = function (value, key) {
          written += value?.byteLength ?? 0;
          return put.call(this, value, key);
        };
        // Nothing listens there: every message stays queued, and is saved.
        const c = wasmqtt.connect('ws://127.0.0.1:9/mqtt', { clientId: 'incremental', clean: false, persistenceKey: 'incremental-test', reconnectPeriod: 60000 });
        const n = 20;
        const size = 50_000;
        for (let i = 0; i < n; i++) {
          c.publish('inc/' + i, new Uint8Array(size).fill(i), { qos: 1 });
          await new Promise((res) => setTimeout(res, 30)); // one save per message
        }
        const db = await new Promise((res, rej) => { const q = indexedDB.open('wasmqtt'); q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error); });
        const get = (store, query, all) => new Promise((res, rej) => {
          const q = db.transaction(store).objectStore(store)[all ? 'getAll' : 'get'](query);
          q.onsuccess = () => res(q.result);
          q.onerror = () => rej(q.error);
        });
        // Messages stored: a segment is `u64 number (u32 len record)*` (src/proto/stored.rs).
        // A save slower than the 30 ms between publishes writes two messages in one segment,
        // so segments are counted apart from messages (CI once saw 19 segments for 20).
        const count = (segments) => segments.reduce((sum, seg) => {
          const dv = new DataView(seg.buffer, seg.byteOffset, seg.byteLength);
          let k = 0;
          for (let at = 8; at < seg.byteLength; at += 4 + dv.getUint32(at)) k++;
          return sum + k;
        }, 0);
        const range = IDBKeyRange.bound(['incremental-test', 0], ['incremental-test', Infinity]);
        // The last save may still be under way on a loaded machine: wait for it (up to 10 s).
        let segments = [];
        for (let waited = 0; waited < 10_000; waited += 100) {
          segments = await get('messages', range, true);
          if (count(segments) >= n) break;
          await new Promise((res) => setTimeout(res, 100));
        }
        await new Promise((res) => setTimeout(res, 300)); // any further (wrong) writes
        segments = await get('messages', range, true);
        IDBObjectStore.prototype.put = put;
        const index = await get('sessions', 'incremental-test');
        db.close();
        c.clearStoredSession();
        await c.endAsync(true);
        return { written, n, size, index: index?.byteLength, records: count(segments), segments: segments.length };
      });
      assert.equal(r.records, r.n, 'one record per queued message');
      assert.ok(r.segments <= r.n, `${r.segments} segments`);
      assert.ok(r.index < 400, `the index is ${r.index} bytes`);
      // Each message once (plus small indexes); whole-session saves wrote ~n/2 times as much.
      assert.ok(r.written < 1.5 * r.n * r.size, `${r.written} bytes written for ${r.n * r.size} bytes of messages`);
    } finally {
      await page.close();
    }
  });

  it('a session stored by the previous version (one value, database version 1) is loaded and sent', async () => {
    // The upgrade path of the incremental store: a page that saved a session before it must
    // not lose it. The page writes a first-format session by hand, as the old version did.
    const obs = await observer(mosq.tcpPort, 'legacy/#');
    const packet = mqttPacket.generate({ cmd: 'publish', topic: 'legacy/kept', payload: Buffer.from('from before the upgrade'), qos: 1, messageId: 1, retain: false, dup: false }, { protocolVersion: 5 });
    const page = await clientPage(browser, server);
    try {
      const version = await page.evaluate(async ({ url, packet }) => {
        const idb = (req) => new Promise((res, rej) => { req.onsuccess = () => res(req.result); req.onerror = () => rej(req.error); });
        await idb(indexedDB.deleteDatabase('wasmqtt'));
        const open = indexedDB.open('wasmqtt', 1);
        open.onupgradeneeded = () => open.result.createObjectStore('sessions');
        const db = await idb(open);
        // "WQS1", no message in flight, one queued (published 1 s ago), no QoS 2 id, no subscription.
        const blob = new Uint8Array(4 + 4 + 4 + 8 + 4 + packet.length + 4 + 4);
        const dv = new DataView(blob.buffer);
        blob.set([0x57, 0x51, 0x53, 0x31]);
        dv.setUint32(4, 0);
        dv.setUint32(8, 1);
        dv.setBigUint64(12, BigInt(Date.now() - 1000));
        dv.setUint32(20, packet.length);
        blob.set(packet, 24);
        dv.setUint32(24 + packet.length, 0);
        dv.setUint32(28 + packet.length, 0);
        const tx = db.transaction('sessions', 'readwrite');
        tx.objectStore('sessions').put(blob, 'legacy-test');
        await new Promise((res) => { tx.oncomplete = res; });
        db.close();
        const c = await wasmqtt.connectAsync(url, { clientId: 'legacy', clean: false, persistenceKey: 'legacy-test' });
        await new Promise((res) => setTimeout(res, 1000));
        const now = await idb(indexedDB.open('wasmqtt'));
        const v = now.version;
        now.close();
        c.clearStoredSession();
        await c.endAsync();
        return v;
      }, { url: mosq.ws, packet: [...packet] });
      await waitFor(() => obs.messages.length >= 1, 10000, 'the stored message');
      assert.deepEqual(obs.messages.map((m) => m.payload), ['from before the upgrade']);
      assert.equal(version, 2);
    } finally {
      await page.close();
      await obs.client.endAsync();
    }
  });

  it("import mqtt from 'wasmqtt' works with no init: message.toString() is the text, mqtt:// means ws://", async () => {
    // Issue 10, start-up: the default export is MQTT.js's `mqtt` object; the first client loads
    // the wasm module by itself; payloads print as text as Node Buffers do.
    const page = await browser.newPage();
    try {
      await page.goto(`${server.url}/tests/js/pages/bare.html`);
      const r = await page.evaluate(async (port) => {
        const { default: mqtt } = await import('/pkg/wasmqtt.js');
        // MQTT.js in a browser: mqtt:// becomes ws:// on the same host and port.
        const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: 'bare-page' });
        const got = new Promise((resolve) => c.on('message', (topic, payload) => resolve({
          text: payload.toString(), template: `${payload}`, hex: payload.toString('hex'), isBytes: payload instanceof Uint8Array,
        })));
        // Calls made before the module is in wait for it, in order.
        const granted = c.subscribeAsync('bare/t', { qos: 1 });
        c.publish('bare/t', 'héllo', { qos: 1 });
        await granted;
        const message = await got;
        const url = await new Promise((resolve) => (c.connected ? resolve(true) : c.once('connect', () => resolve(true))));
        await c.endAsync();
        return { ...message, url };
      }, mosq.wsPort);
      assert.deepEqual(r, { text: 'héllo', template: 'héllo', hex: '68c3a96c6c6f', isBytes: true, url: true });
    } finally {
      await page.close();
    }
  });

  it('a wasm module that cannot be loaded is reported on the client, and its calls fail with why', async () => {
    const page = await browser.newPage();
    try {
      await page.route('**/wasmqtt_core_bg.wasm', (route) => route.abort());
      await page.goto(`${server.url}/tests/js/pages/bare.html`);
      const r = await page.evaluate(async (url) => {
        const { default: mqtt } = await import('/pkg/wasmqtt.js');
        const c = mqtt.connect(url, { clientId: 'no-wasm' });
        const error = new Promise((resolve) => c.on('error', (e) => resolve(e.kind)));
        const published = new Promise((resolve) => c.publish('t', 'x', { qos: 1 }, (e) => resolve(e?.kind)));
        const subscribed = c.subscribeAsync('t').then(() => 'ok', (e) => e.kind);
        return { error: await error, published: await published, subscribed: await subscribed, message: c.lastError?.message ?? null };
      }, mosq.ws);
      assert.deepEqual({ ...r, message: undefined }, { error: 'LOAD_FAILED', published: 'LOAD_FAILED', subscribed: 'LOAD_FAILED', message: undefined });
    } finally {
      await page.close();
    }
  });

  it('refusals reject connectAsync with the code MQTT.js users check', async () => {
    const strict = await startMosquitto({ extra: 'allow_anonymous false' });
    const page = await clientPage(browser, server);
    try {
      const r = await page.evaluate(async (url) => {
        const out = {};
        for (const protocolVersion of [4, 5]) {
          try {
            await wasmqtt.connectAsync(url, { clientId: 'nope' + protocolVersion, protocolVersion, username: 'x', password: 'y' });
            out[protocolVersion] = 'connected?!';
          } catch (e) {
            out[protocolVersion] = { name: e.name, kind: e.kind, code: e.code, message: e.message };
          }
        }
        return out;
      }, strict.ws);
      assert.equal(r[4].kind, 'CONNECTION_REFUSED');
      assert.equal(r[4].code, 5, 'MQTT 3.1.1 return code 5, not authorised');
      assert.equal(r[5].code, 0x87);
      assert.match(r[5].message, /Not authorized/);
    } finally {
      await page.close();
      await strict.close();
    }
  });
});
