// The compatibility suite's tests (issue 10), written against MQTT.js's documented API, not
// wasmqtt's. One module for Node (compat.test.mjs) and headless Chromium (pages/compat.html):
// what differs between them (assertions, sleeping, a proxy the test can cut) is passed in.
//
// ctx of a test: { mqtt, url, broker, topic(name) }; `mqtt` is the library under test.

/**
 * The tests, as [title, body(ctx)], given `assert` (node:assert/strict's equal, deepEqual, ok,
 * match, rejects), `sleep(ms)` and `proxied(url)`, which gives `{ proxy: { cut(), close() },
 * url }`: the same broker through a TCP proxy the test can cut.
 */
export function compatTests({ assert, sleep, proxied }) {
  async function until(cond, ms = 5000, what = 'a condition') {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(10);
    }
  }

  let unique = 0;
  const run = Math.random().toString(16).slice(2, 8);
  const id = (name) => `compat-${name}-${run}-${unique++}`;

  /** The suite's tests: (title, body(ctx)) with ctx = { mqtt, url, broker, topic(name) }. */
  const TESTS = [
    ['connect emits connect with the CONNACK, and connected is true', async ({ mqtt, url }) => {
      const c = mqtt.connect(url, { clientId: id('connect') });
      const connack = await new Promise((resolve, reject) => { c.once('connect', resolve); c.once('error', reject); });
      assert.equal(connack.cmd, 'connack');
      assert.equal(typeof connack.sessionPresent, 'boolean');
      assert.equal(c.connected, true);
      await c.endAsync();
      assert.equal(c.connected, false);
    }],

    ['connectAsync resolves with a connected client', async ({ mqtt, url }) => {
      const c = await mqtt.connectAsync(url, { clientId: id('async') });
      assert.equal(c.connected, true);
      assert.equal(c.options.clientId.startsWith('compat-async'), true);
      await c.endAsync();
    }],

    ['publish calls back without an error at QoS 0, 1 and 2', async ({ mqtt, url, topic }) => {
      const c = await mqtt.connectAsync(url, { clientId: id('pub') });
      for (const qos of [0, 1, 2]) {
        const err = await new Promise((resolve) => c.publish(topic('p'), 'x', { qos }, resolve));
        assert.ok(!err, `QoS ${qos}: ${err}`);
      }
      await c.publishAsync(topic('p'), 'y', { qos: 1 });
      await c.endAsync();
    }],

    ['subscribe calls back with the grants, and message gives topic, payload and packet', async ({ mqtt, url, topic }) => {
      const c = await mqtt.connectAsync(url, { clientId: id('sub') });
      const t = topic('s');
      const granted = await new Promise((resolve, reject) => c.subscribe(t, { qos: 1 }, (err, g) => (err ? reject(err) : resolve(g))));
      assert.deepEqual(granted.map((g) => [g.topic, g.qos]), [[t, 1]]);
      const got = new Promise((resolve) => c.once('message', (...args) => resolve(args)));
      c.publish(t, 'hello 1', { qos: 1 });
      const [mt, payload, packet] = await got;
      assert.equal(mt, t);
      assert.equal(payload.toString(), 'hello 1');
      assert.equal(packet.cmd, 'publish');
      assert.equal(packet.topic, t);
      assert.equal(packet.qos, 1);
      assert.equal(packet.retain, false);
      assert.equal(typeof packet.messageId, 'number');
      assert.equal(packet.payload.toString(), 'hello 1');
      await c.endAsync();
    }],

    ['subscribe takes an array and an object of topics', async ({ mqtt, url, topic }) => {
      const c = await mqtt.connectAsync(url, { clientId: id('multi') });
      const [a, b, d] = [topic('a'), topic('b'), topic('d')];
      const g1 = await c.subscribeAsync([a, b], { qos: 1 });
      assert.deepEqual(g1.map((g) => [g.topic, g.qos]).sort(), [[a, 1], [b, 1]].sort());
      const g2 = await c.subscribeAsync({ [d]: { qos: 2 } });
      assert.deepEqual(g2.map((g) => [g.topic, g.qos]), [[d, 2]]);
      await c.endAsync();
    }],

    ['a retained message reaches a later subscriber with retain set', async ({ mqtt, url, topic }) => {
      const t = topic('retained');
      const pub = await mqtt.connectAsync(url, { clientId: id('retainer') });
      await pub.publishAsync(t, 'kept', { qos: 1, retain: true });
      const sub = await mqtt.connectAsync(url, { clientId: id('late') });
      const got = new Promise((resolve) => sub.once('message', (mt, payload, packet) => resolve([payload.toString(), packet.retain])));
      await sub.subscribeAsync(t, { qos: 1 });
      assert.deepEqual(await got, ['kept', true]);
      await pub.publishAsync(t, '', { qos: 1, retain: true }); // clears it
      await sub.endAsync();
      await pub.endAsync();
    }],

    ['unsubscribe stops the messages and calls back', async ({ mqtt, url, topic }) => {
      const c = await mqtt.connectAsync(url, { clientId: id('unsub') });
      const t = topic('u');
      const got = [];
      c.on('message', (mt, payload) => got.push(payload.toString()));
      await c.subscribeAsync(t, { qos: 1 });
      await c.publishAsync(t, 'before', { qos: 1 });
      await until(() => got.length === 1, 5000, 'the first message');
      await new Promise((resolve, reject) => c.unsubscribe(t, (err) => (err ? reject(err) : resolve())));
      await c.publishAsync(t, 'after', { qos: 1 });
      await sleep(200);
      assert.deepEqual(got, ['before']);
      await c.unsubscribeAsync(t);
      await c.endAsync();
    }],

    ['QoS 1 messages arrive once each, in order', async ({ mqtt, url, topic }) => {
      const c = await mqtt.connectAsync(url, { clientId: id('order') });
      const t = topic('o');
      const got = [];
      c.on('message', (mt, payload) => got.push(Number(payload.toString())));
      await c.subscribeAsync(t, { qos: 1 });
      for (let i = 0; i < 200; i++) c.publish(t, String(i), { qos: 1 });
      await until(() => got.length >= 200, 10000, '200 messages');
      await sleep(100);
      assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => i));
      await c.endAsync();
    }],

    ['end calls back, emits end and close, and connected turns false', async ({ mqtt, url }) => {
      const c = await mqtt.connectAsync(url, { clientId: id('end') });
      const events = [];
      c.on('close', () => events.push('close'));
      c.on('end', () => events.push('end'));
      await new Promise((resolve) => c.end(false, {}, resolve));
      await sleep(50);
      assert.ok(events.includes('end'), events.join());
      assert.ok(events.includes('close'), events.join());
      assert.equal(c.connected, false);
      assert.equal(c.disconnected, true);
    }],

    ['end(true) ends at once, endAsync resolves', async ({ mqtt, url }) => {
      const c = await mqtt.connectAsync(url, { clientId: id('force') });
      await new Promise((resolve) => c.end(true, resolve));
      const d = await mqtt.connectAsync(url, { clientId: id('force2') });
      await d.endAsync(true);
      assert.equal(d.connected, false);
    }],

    ['reconnect() after end connects again', async ({ mqtt, url }) => {
      const c = await mqtt.connectAsync(url, { clientId: id('again') });
      await c.endAsync();
      const back = new Promise((resolve) => c.once('connect', resolve));
      c.reconnect();
      await back;
      assert.equal(c.connected, true);
      await c.endAsync();
    }],

    ['the EventEmitter interface: once, prependListener, listeners, eventNames, setMaxListeners', async ({ mqtt, url }) => {
      const c = mqtt.connect(url, { clientId: id('emitter') });
      const base = c.listenerCount('connect'); // a library may listen itself
      const order = [];
      c.on('connect', () => order.push('on'));
      c.prependListener('connect', () => order.push('prepended'));
      c.once('connect', () => order.push('once'));
      assert.equal(c.setMaxListeners(20), c);
      assert.equal(c.getMaxListeners(), 20);
      assert.ok(c.eventNames().includes('connect'));
      assert.equal(c.listeners('connect').length, base + 3);
      assert.equal(c.listenerCount('connect'), base + 3);
      await new Promise((resolve) => c.once('connect', resolve));
      assert.deepEqual(order, ['prepended', 'on', 'once']);
      assert.equal(c.listeners('connect').length, base + 2);
      const f = () => {};
      c.addListener('message', f);
      c.removeListener('message', f);
      assert.equal(c.listenerCount('message'), 0);
      c.removeAllListeners('connect');
      assert.equal(c.listenerCount('connect'), 0);
      await c.endAsync();
    }],

    ['MQTT 5: user properties travel with a message', async ({ mqtt, url, topic, broker }) => {
      if (broker === 'aedes') return; // aedes speaks MQTT 3.1.1 only
      const c = await mqtt.connectAsync(url, { clientId: id('v5'), protocolVersion: 5 });
      const t = topic('v5');
      const got = new Promise((resolve) => c.once('message', (mt, payload, packet) => resolve(packet.properties)));
      await c.subscribeAsync(t, { qos: 1 });
      await c.publishAsync(t, 'x', { qos: 1, properties: { userProperties: { a: '1', b: ['2', '3'] }, contentType: 'text/plain' } });
      const props = await got;
      assert.deepEqual({ ...props.userProperties }, { a: '1', b: ['2', '3'] });
      assert.equal(props.contentType, 'text/plain');
      await c.endAsync();
    }],

    ['a refused subscription fails with the reason code, as MQTT.js reports it', async ({ mqtt, url, broker }) => {
      if (broker !== 'aedes') return; // the aedes broker here refuses denied/#
      const c = await mqtt.connectAsync(url, { clientId: id('refused') });
      const err = await new Promise((resolve) => c.subscribe('denied/x', { qos: 1 }, (e) => resolve(e)));
      assert.ok(err instanceof Error, 'the callback gets an error');
      assert.match(err.message, /Subscribe error/);
      assert.deepEqual(err.packet?.granted, [128], 'the SUBACK is on the error');
      await assert.rejects(c.subscribeAsync('denied/y'), (e) => e.packet?.granted?.[0] === 128);
      await c.endAsync();
    }],

    ['a clean session gets nothing of an earlier one, a persistent one its messages', async ({ mqtt, url, topic }) => {
      const t = topic('session');
      const clientId = id('session');
      const first = await mqtt.connectAsync(url, { clientId, clean: false });
      await first.subscribeAsync(t, { qos: 1 });
      await first.endAsync();
      const pub = await mqtt.connectAsync(url, { clientId: id('session-pub') });
      await pub.publishAsync(t, 'while away', { qos: 1 });
      await pub.endAsync();
      const got = [];
      const again = mqtt.connect(url, { clientId, clean: false });
      again.on('message', (mt, payload) => got.push(payload.toString()));
      const connack = await new Promise((resolve) => again.once('connect', resolve));
      assert.equal(connack.sessionPresent, true);
      await until(() => got.length === 1, 5000, 'the message kept for the session');
      assert.deepEqual(got, ['while away']);
      await again.endAsync();
    }],

    ['a client given the stores of one that could not connect sends what they hold, once each', async ({ mqtt, url, topic }) => {
      const t = topic('stores');
      const watcher = await mqtt.connectAsync(url, { clientId: id('stores-watch') });
      const got = [];
      watcher.on('message', (mt, payload) => got.push(payload.toString()));
      await watcher.subscribeAsync(t, { qos: 2 });
      const incomingStore = new mqtt.Store({ clean: false });
      const outgoingStore = new mqtt.Store({ clean: false });
      const held = () => new Promise((resolve, reject) => {
        const out = [];
        const s = outgoingStore.createStream();
        s.on('data', (p) => out.push(p));
        s.on('end', () => resolve(out));
        s.on('error', reject);
      });
      const down = new URL(url);
      down.port = '1'; // nothing listens there
      const a = mqtt.connect(down.toString(), { clientId: id('stores-a'), incomingStore, outgoingStore, reconnectPeriod: 60000, connectTimeout: 2000 });
      a.on('error', () => {});
      a.publish(t, 'held 1', { qos: 1 });
      a.publish(t, 'held 2', { qos: 2 });
      a.publish(t, 'held 3', { qos: 1 });
      let packets = [];
      for (let i = 0; i < 200 && packets.length < 3; i++) {
        await sleep(25);
        packets = await held();
      }
      assert.deepEqual(packets.map((p) => [p.cmd, p.topic, p.qos, p.payload.toString()]).sort((x, y) => x[2] - y[2] || (x[3] < y[3] ? -1 : 1)), [['publish', t, 1, 'held 1'], ['publish', t, 1, 'held 3'], ['publish', t, 2, 'held 2']]);
      assert.ok(packets.every((p) => Number.isInteger(p.messageId)));
      a.end(true);
      const b = mqtt.connect(url, { clientId: id('stores-b'), incomingStore, outgoingStore });
      b.on('error', () => {});
      await until(() => got.length >= 3, 5000, 'the messages the stores held');
      await sleep(300);
      // Each once; QoS 1 in the order published (order across QoS levels is not promised:
      // aedes delivers the QoS 2 message first).
      assert.deepEqual([...got].sort(), ['held 1', 'held 2', 'held 3']);
      assert.deepEqual(got.filter((m) => m !== 'held 2'), ['held 1', 'held 3']);
      for (let i = 0; i < 200 && packets.length > 0; i++) {
        await sleep(25);
        packets = await held();
      }
      assert.deepEqual(packets, [], 'acknowledged messages leave the store');
      await b.endAsync();
      await watcher.endAsync();
    }],
  ];

  TESTS.push(
    ['a will is published when the connection dies, not after end()', async ({ mqtt, url, topic }) => {
      const t = topic('will');
      const watcher = await mqtt.connectAsync(url, { clientId: id('watcher') });
      const wills = [];
      watcher.on('message', (mt, payload) => wills.push(payload.toString()));
      await watcher.subscribeAsync(t, { qos: 1 });
      const { proxy, url: through } = await proxied(url);
      try {
        const c = await mqtt.connectAsync(through, { clientId: id('will'), reconnectPeriod: 0, will: { topic: t, payload: 'gone', qos: 1, retain: false } });
        proxy.cut();
        await until(() => wills.length === 1, 10000, 'the will');
        await c.endAsync(true);
        const d = await mqtt.connectAsync(url, { clientId: id('will2'), will: { topic: t, payload: 'not this', qos: 1, retain: false } });
        await d.endAsync();
        await sleep(300);
        assert.deepEqual(wills, ['gone']);
      } finally {
        await proxy.close();
        await watcher.endAsync();
      }
    }],

    ['a lost connection: close and offline, then reconnect and connect; what was published meanwhile is sent', async ({ mqtt, url, topic }) => {
      const t = topic('lost');
      const watcher = await mqtt.connectAsync(url, { clientId: id('lost-watcher') });
      const got = [];
      watcher.on('message', (mt, payload) => got.push(payload.toString()));
      await watcher.subscribeAsync(t, { qos: 1 });
      const { proxy, url: through } = await proxied(url);
      try {
        const c = await mqtt.connectAsync(through, { clientId: id('lost'), reconnectPeriod: 100 });
        const events = [];
        for (const e of ['close', 'offline', 'reconnect', 'connect']) c.on(e, () => events.push(e));
        proxy.block();
        proxy.cut();
        await until(() => events.includes('offline') || events.includes('close'), 5000, 'close');
        assert.equal(c.connected, false);
        const done = new Promise((resolve, reject) => c.publish(t, 'meanwhile', { qos: 1 }, (err) => (err ? reject(err) : resolve())));
        await sleep(300);
        proxy.unblock();
        await until(() => events.includes('connect'), 10000, 'the reconnection');
        await done;
        await until(() => got.includes('meanwhile'), 5000, 'the message published while offline');
        assert.ok(events.includes('close') && events.includes('reconnect'), events.join());
        assert.ok(events.indexOf('close') < events.indexOf('connect'));
        await c.endAsync();
      } finally {
        await proxy.close();
        await watcher.endAsync();
      }
    }],

    ['a refused connection rejects connectAsync with the return code', async ({ mqtt, url, broker }) => {
      if (broker !== 'aedes') return; // the aedes broker here refuses the user "intruder"
      await assert.rejects(
        mqtt.connectAsync(url, { clientId: id('refused-connect'), username: 'intruder', password: 'x', reconnectPeriod: 0 }),
        (e) => e.code === 4 || e.code === 5,
      );
    }],

    ['getLastMessageId gives the identifier of the last publish', async ({ mqtt, url, topic }) => {
      const c = await mqtt.connectAsync(url, { clientId: id('lastid') });
      const t = topic('id');
      await c.publishAsync(t, 'a', { qos: 1 });
      const first = c.getLastMessageId();
      await c.publishAsync(t, 'b', { qos: 1 });
      const second = c.getLastMessageId();
      assert.equal(typeof first, 'number');
      assert.ok(first >= 1 && first <= 65535 && second >= 1 && second !== first, `${first} ${second}`);
      await c.endAsync();
    }],

    ['packetsend and packetreceive show the packets', async ({ mqtt, url, topic }) => {
      const c = mqtt.connect(url, { clientId: id('packets') });
      const sentPackets = [];
      const receivedPackets = [];
      c.on('packetsend', (p) => sentPackets.push(p));
      c.on('packetreceive', (p) => receivedPackets.push(p));
      const sent = [];
      const received = [];
      c.on('packetsend', (p) => sent.push(p.cmd));
      c.on('packetreceive', (p) => received.push(p.cmd));
      await new Promise((resolve) => c.once('connect', resolve));
      const t = topic('pk');
      await c.subscribeAsync(t, { qos: 1 });
      await c.publishAsync(t, 'x', { qos: 1 });
      await until(() => received.includes('publish'), 5000, 'the PUBLISH back');
      await c.endAsync();
      // (MQTT.js does not report its CONNECT.)
      for (const cmd of ['subscribe', 'publish', 'puback', 'disconnect']) assert.ok(sent.includes(cmd), `sent ${cmd}: ${sent}`);
      for (const cmd of ['connack', 'suback', 'puback', 'publish']) assert.ok(received.includes(cmd), `received ${cmd}: ${received}`);
      const publish = sentPackets.find((p) => p.cmd === 'publish');
      assert.equal(publish.topic, t);
      assert.equal(publish.qos, 1);
      assert.ok(publish.messageId > 0);
      assert.equal(publish.payload.toString(), 'x');
      assert.deepEqual(receivedPackets.find((p) => p.cmd === 'suback').granted, [1]);
      const back = receivedPackets.find((p) => p.cmd === 'publish');
      assert.equal(back.topic, t);
      assert.equal(back.payload.toString(), 'x');
    }],

    ['a message handleMessage has not called back for is not acknowledged: the broker sends it again', async ({ mqtt, url, topic }) => {
      const t = topic('gate');
      const { proxy, url: through } = await proxied(url);
      const pub = await mqtt.connectAsync(url, { clientId: id('gate-pub') });
      try {
        const c = await mqtt.connectAsync(through, { clientId: id('gate'), clean: false, reconnectPeriod: 100 });
        const seen = [];
        c.handleMessage = (packet, callback) => {
          seen.push(packet.payload.toString());
          if (seen.length > 1) callback(); // the first delivery is never acknowledged
        };
        await c.subscribeAsync(t, { qos: 1 });
        await pub.publishAsync(t, 'held', { qos: 1 });
        await until(() => seen.length === 1, 5000, 'the message');
        await sleep(200);
        proxy.cut();
        await until(() => seen.length === 2, 10000, 'the message again, after reconnecting');
        assert.deepEqual(seen, ['held', 'held']);
        await c.endAsync();
      } finally {
        await pub.endAsync();
        await proxy.close();
      }
    }],

    ['handleMessage sees every message before it is acknowledged', async ({ mqtt, url, topic }) => {
      const c = await mqtt.connectAsync(url, { clientId: id('handle') });
      const handled = [];
      c.handleMessage = (packet, callback) => {
        handled.push(packet.payload.toString());
        setTimeout(callback, 10);
      };
      const t = topic('h');
      await c.subscribeAsync(t, { qos: 1 });
      for (const m of ['a', 'b']) await c.publishAsync(t, m, { qos: 1 });
      await until(() => handled.length === 2, 5000, 'two messages handled');
      assert.deepEqual(handled, ['a', 'b']);
      await c.endAsync();
    }],

    ['a UniqueMessageIdProvider gives the lowest free identifier', async ({ mqtt, url, topic }) => {
      const c = await mqtt.connectAsync(url, { clientId: id('unique'), messageIdProvider: new mqtt.UniqueMessageIdProvider() });
      const t = topic('ids');
      await c.publishAsync(t, 'a', { qos: 1 });
      assert.equal(c.getLastMessageId(), 1);
      await c.publishAsync(t, 'b', { qos: 1 });
      assert.equal(c.getLastMessageId(), 1, 'freed by its PUBACK, given again');
      const p = c.publishAsync(t, 'c', { qos: 2 });
      c.publish(t, 'd', { qos: 1 });
      assert.equal(c.getLastMessageId(), 2, 'one in flight: the next');
      await p;
      await c.endAsync();
    }],

    ['removeOutgoingMessage fails the publish callback with Message removed, and later messages still complete', async ({ mqtt, url, topic }) => {
      const c = await mqtt.connectAsync(url, { clientId: id('remove') });
      const t = topic('rm');
      for (const qos of [1, 2]) {
        const removed = new Promise((resolve) => c.publish(t, `removed at QoS ${qos}`, { qos }, resolve));
        const messageId = c.getLastMessageId();
        assert.ok(Number.isInteger(messageId) && messageId > 0, `getLastMessageId: ${messageId}`);
        assert.equal(c.removeOutgoingMessage(messageId), c, 'returns the client');
        const err = await removed;
        assert.ok(err instanceof Error, `QoS ${qos}: the callback got ${err}`);
        assert.match(err.message, /^Message removed/);
      }
      for (const qos of [1, 2]) {
        const err = await new Promise((resolve) => c.publish(t, 'after', { qos }, resolve));
        assert.ok(!err, `QoS ${qos} after a removal: ${err}`);
      }
      c.removeOutgoingMessage(65000); // no such message: nothing happens
      await c.endAsync();
    }],

    ['publish completes with no packet at QoS 0, the PUBLISH at QoS 1 and the PUBREL at QoS 2, with their messageId', async ({ mqtt, url, topic }) => {
      const c = await mqtt.connectAsync(url, { clientId: id('acks') });
      const t = topic('a');
      const outcome = (qos) => new Promise((resolve, reject) => c.publish(t, 'x', { qos }, (err, packet) => (err ? reject(err) : resolve(packet))));
      assert.equal(await outcome(0), undefined);
      const publish = await outcome(1);
      assert.equal(publish.cmd, 'publish');
      assert.equal(publish.topic, t);
      assert.equal(publish.payload.toString(), 'x');
      assert.equal(publish.qos, 1);
      assert.ok(Number.isInteger(publish.messageId) && publish.messageId > 0, `messageId ${publish.messageId}`);
      const pubrel = await outcome(2);
      assert.equal(pubrel.cmd, 'pubrel');
      assert.ok(Number.isInteger(pubrel.messageId) && pubrel.messageId > 0, `messageId ${pubrel.messageId}`);
      assert.equal((await c.publishAsync(t, 'y', { qos: 1 })).cmd, 'publish');
      assert.equal((await c.publishAsync(t, 'y', { qos: 2 })).cmd, 'pubrel');
      assert.equal(await c.publishAsync(t, 'z', { qos: 0 }), undefined);
      await c.endAsync();
    }],

    ['a graceful end waits for a QoS 1 message in flight and emits outgoingEmpty when it completes', async ({ mqtt, url, topic }) => {
      const c = await mqtt.connectAsync(url, { clientId: id('drain') });
      const t = topic('drain');
      const events = [];
      c.on('outgoingEmpty', () => events.push('outgoingEmpty'));
      c.on('end', () => events.push('end'));
      const acked = new Promise((resolve, reject) => c.publish(t, 'last', { qos: 1 }, (err) => (err ? reject(err) : resolve(events.push('acked')))));
      await new Promise((resolve) => c.end(false, {}, resolve));
      await acked;
      assert.deepEqual(events, ['acked', 'outgoingEmpty', 'end']);
      // Nothing in flight at end(): no outgoingEmpty.
      const d = await mqtt.connectAsync(url, { clientId: id('drain2') });
      let emptied = 0;
      d.on('outgoingEmpty', () => emptied++);
      await d.endAsync();
      assert.equal(emptied, 0);
    }],

    ['connect takes options alone (host, port, protocol, path), and end takes (options, callback)', async ({ mqtt, url }) => {
      const u = new URL(url);
      const c = mqtt.connect({
        host: u.hostname, port: Number(u.port), protocol: u.protocol.slice(0, -1), path: u.pathname || '/', clientId: id('options'),
      });
      await new Promise((resolve, reject) => { c.once('connect', resolve); c.once('error', reject); });
      await new Promise((resolve) => c.end({ reasonCode: 0 }, resolve));
      assert.equal(c.connected, false);
      const c2 = await mqtt.connectAsync({ host: u.hostname, port: Number(u.port), protocol: u.protocol.slice(0, -1), path: u.pathname || '/', clientId: id('options') });
      assert.equal(c2.connected, true);
      await c2.endAsync({ reasonCode: 0 });
      assert.equal(c2.connected, false);
    }],

  );

  return TESTS;
}
