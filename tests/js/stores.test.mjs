// MQTT.js Stores (incomingStore / outgoingStore) in Node: the session kept in stores the
// application gives, against a fake broker that holds acknowledgements back (so messages stay
// in flight) and mosquitto.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import mqttPacket from 'mqtt-packet';
import mqttjs from 'mqtt';
import wasmqtt from './helpers.mjs';
import { startMosquitto, waitFor as until, sleep } from './env.mjs';

let mosq;
after(async () => mosq?.close());

/**
 * A broker on loopback that answers CONNECT with `connack` and hands every other packet to
 * `onPacket(packet, send)`; `packets` records what clients sent.
 */
async function fakeBroker({ sessionPresent = false, onPacket = () => {}, onConnect = () => {} } = {}) {
  const packets = [];
  const sockets = new Set();
  const server = createServer((socket) => {
    sockets.add(socket);
    let version = 4;
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    const send = (p) => socket.write(mqttPacket.generate(p, { protocolVersion: version }));
    parser.on('packet', (p) => {
      packets.push(p);
      if (p.cmd === 'connect') {
        version = p.protocolVersion;
        parser.settings = { protocolVersion: version };
        send({ cmd: 'connack', sessionPresent, returnCode: 0, reasonCode: 0 });
        onConnect(send);
      } else if (p.cmd === 'pingreq') {
        send({ cmd: 'pingresp' });
      } else {
        onPacket(p, send);
      }
    });
    socket.on('data', (d) => parser.parse(d));
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `mqtt://127.0.0.1:${server.address().port}`,
    packets,
    close: () => new Promise((r) => {
      for (const s of sockets) s.destroy();
      server.close(r);
    }),
  };
}

/** What a store holds. */
function held(store) {
  return new Promise((resolve, reject) => {
    const out = [];
    const s = store.createStream();
    s.on('data', (p) => out.push(p));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

async function heldUntil(store, cond, what) {
  let packets = [];
  await until(async () => cond((packets = await held(store))), 5000, what);
  return packets;
}

test('messages in flight are in the outgoing store as MQTT.js packets, and a client given it resends them with their identifiers', async () => {
  const incomingStore = new wasmqtt.Store();
  const outgoingStore = new wasmqtt.Store();
  // The first broker takes the QoS 2 message (PUBREC) and acknowledges nothing else.
  const first = await fakeBroker({
    onPacket: (p, send) => { if (p.cmd === 'publish' && p.qos === 2) send({ cmd: 'pubrec', messageId: p.messageId }); },
  });
  const a = wasmqtt.connect(first.url, { clientId: 'stores-flight', clean: false, incomingStore, outgoingStore, reconnectPeriod: 60000 });
  await new Promise((r) => a.once('connect', r));
  const outcomes = [];
  a.publish('s/1', 'one', { qos: 1 }, (err) => outcomes.push(err?.code ?? 'ok'));
  a.publish('s/2', 'two', { qos: 2 }, (err) => outcomes.push(err?.code ?? 'ok'));
  const packets = await heldUntil(outgoingStore, (ps) => ps.some((p) => p.cmd === 'pubrel'), 'the PUBREL in the store');
  const byId = Object.fromEntries(packets.map((p) => [p.messageId, p]));
  const sent = first.packets.filter((p) => p.cmd === 'publish');
  assert.equal(sent.length, 2);
  const [q1, q2] = sent;
  assert.equal(byId[q1.messageId].cmd, 'publish');
  assert.equal(byId[q1.messageId].topic, 's/1');
  assert.equal(byId[q1.messageId].payload.toString(), 'one');
  assert.equal(byId[q1.messageId].qos, 1);
  assert.deepEqual(byId[q2.messageId].cmd, 'pubrel', 'after PUBREC the PUBLISH is replaced by its PUBREL, as MQTT.js does');
  assert.equal(packets.length, 2);
  a.end(true);
  await first.close();

  // The next broker has the session: it gets the PUBLISH again with DUP and the same
  // identifier, and the PUBREL [MQTT-4.4.0-1]; it acknowledges both.
  const second = await fakeBroker({
    sessionPresent: true,
    onPacket: (p, send) => {
      if (p.cmd === 'publish') send({ cmd: 'puback', messageId: p.messageId });
      if (p.cmd === 'pubrel') send({ cmd: 'pubcomp', messageId: p.messageId });
    },
  });
  const b = wasmqtt.connect(second.url, { clientId: 'stores-flight', clean: false, incomingStore, outgoingStore });
  await until(() => second.packets.some((p) => p.cmd === 'pubrel'), 5000, 'the PUBREL resent');
  const again = second.packets.filter((p) => p.cmd === 'publish' || p.cmd === 'pubrel');
  assert.deepEqual(again.map((p) => [p.cmd, p.messageId, p.cmd === 'publish' ? p.dup : undefined]), [['publish', q1.messageId, true], ['pubrel', q2.messageId, undefined]]);
  await heldUntil(outgoingStore, (ps) => ps.length === 0, 'an empty store once acknowledged');
  await b.endAsync();
  await second.close();
});

test('a QoS 2 message received is delivered once across a restart, through the incoming store', async () => {
  // [MQTT-4.3.3-9]: until its PUBREL, a PUBLISH on the same identifier is the same message.
  const incomingStore = new wasmqtt.Store();
  const outgoingStore = new wasmqtt.Store();
  const message = { cmd: 'publish', topic: 'in/q2', payload: Buffer.from('exactly once'), qos: 2, messageId: 7, retain: false, dup: false };
  const first = await fakeBroker({ onConnect: (send) => send(message) });
  const got = [];
  const a = wasmqtt.connect(first.url, { clientId: 'stores-in', clean: false, incomingStore, outgoingStore, reconnectPeriod: 60000 });
  a.on('message', (t, p) => got.push(p.toString()));
  await until(() => first.packets.some((p) => p.cmd === 'pubrec'), 5000, 'the PUBREC');
  const inc = await heldUntil(incomingStore, (ps) => ps.length === 1, 'the identifier in the incoming store');
  assert.deepEqual(inc.map((p) => [p.cmd, p.messageId]), [['pubrec', 7]]);
  a.end(true);
  await first.close();

  const second = await fakeBroker({
    sessionPresent: true,
    onConnect: (send) => send({ ...message, dup: true }),
    onPacket: (p, send) => { if (p.cmd === 'pubrec') send({ cmd: 'pubrel', messageId: p.messageId }); },
  });
  const b = wasmqtt.connect(second.url, { clientId: 'stores-in', clean: false, incomingStore, outgoingStore });
  b.on('message', (t, p) => got.push(p.toString()));
  await until(() => second.packets.some((p) => p.cmd === 'pubcomp'), 5000, 'the PUBCOMP');
  await sleep(200);
  assert.deepEqual(got, ['exactly once'], 'delivered before the restart, not again after');
  await heldUntil(incomingStore, (ps) => ps.length === 0, 'the identifier released');
  await b.endAsync();
  await second.close();
});

test('a store MQTT.js wrote is sent by wasmqtt (moving with pending messages)', async () => {
  mosq ??= await startMosquitto({});
  const watcher = await wasmqtt.connectAsync(`mqtt://127.0.0.1:${mosq.tcpPort}`, { clientId: 'stores-watch' });
  const got = [];
  watcher.on('message', (t, p) => got.push(p.toString()));
  await watcher.subscribeAsync('moved/#', { qos: 1 });
  const outgoingStore = new mqttjs.Store({ clean: false });
  const incomingStore = new mqttjs.Store({ clean: false });
  const old = mqttjs.connect('mqtt://127.0.0.1:1', { clientId: 'stores-old', outgoingStore, incomingStore, reconnectPeriod: 60000 });
  old.on('error', () => {});
  old.publish('moved/1', 'written by MQTT.js', { qos: 1 });
  await heldUntil(outgoingStore, (ps) => ps.length === 1, 'MQTT.js storing its message');
  old.end(true);
  const c = wasmqtt.connect(`mqtt://127.0.0.1:${mosq.tcpPort}`, { clientId: 'stores-new', outgoingStore, incomingStore });
  await until(() => got.length === 1, 5000, 'the message MQTT.js had stored');
  assert.deepEqual(got, ['written by MQTT.js']);
  await heldUntil(outgoingStore, (ps) => ps.length === 0, 'the store emptied');
  await c.endAsync();
  await watcher.endAsync();
});

test('a store that fails is reported as an error naming it, and the message still goes', async () => {
  mosq ??= await startMosquitto({});
  const outgoingStore = new wasmqtt.Store();
  outgoingStore.put = (packet, cb) => { cb(new Error('disk full')); return outgoingStore; };
  const c = await wasmqtt.connectAsync(`mqtt://127.0.0.1:${mosq.tcpPort}`, { clientId: 'stores-fail', outgoingStore });
  const errors = [];
  c.on('error', (e) => errors.push(e));
  await c.publishAsync('fail/1', 'x', { qos: 1 });
  await until(() => errors.length > 0, 5000, 'the error');
  assert.equal(errors[0].code, 'PERSISTENCE');
  assert.match(errors[0].message, /outgoingStore\.put\(\d+\) failed: disk full/);
  await c.endAsync();
});

test('reconnect({ incomingStore, outgoingStore }) keeps a live session in the new stores', async () => {
  const broker = await fakeBroker(); // acknowledges nothing: the message stays in flight
  const c = wasmqtt.connect(broker.url, { clientId: 'stores-swap', reconnectPeriod: 60000 });
  await new Promise((r) => c.once('connect', r));
  c.publish('swap/1', 'in flight', { qos: 1 });
  await until(() => broker.packets.some((p) => p.cmd === 'publish'), 5000, 'the PUBLISH');
  const outgoingStore = new wasmqtt.Store();
  const incomingStore = new wasmqtt.Store();
  c.reconnect({ incomingStore, outgoingStore });
  assert.equal(c.outgoingStore, outgoingStore);
  const packets = await heldUntil(outgoingStore, (ps) => ps.length === 1, 'the live session in the new store');
  assert.deepEqual(packets.map((p) => [p.cmd, p.topic, p.payload.toString()]), [['publish', 'swap/1', 'in flight']]);
  c.end(true);
  await broker.close();
});
