// The codec through the JS API in Node, side by side with mqtt-packet in the same run.
// `cargo xtask bench` runs it after building pkg/. Prints ops/s and the ratio wasmqtt/mqtt-packet.

import mqttPacket from 'mqtt-packet';
import { codec } from '../helpers.mjs';

const { encodePacket, decodePacket, Parser } = codec;
const TOPIC = 'sensors/device-42/temp';

/** A QoS 1 PUBLISH whose encoding is exactly `size` bytes. */
function publish(size, v) {
  const make = (n) => ({ cmd: 'publish', topic: TOPIC, payload: Buffer.alloc(n, 0x5a), qos: 1, messageId: 42, retain: false, dup: false });
  let n = size;
  for (;;) {
    const len = mqttPacket.generate(make(n), { protocolVersion: v }).length;
    if (len === size) return make(n);
    n -= len - size;
  }
}

const connect5 = {
  cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: false, keepalive: 30, clientId: 'dashboard-7f3a9c',
  username: 'operator', password: Buffer.from('secret-token'),
  will: { topic: 'devices/dashboard-7f3a9c/status', payload: Buffer.from('offline'), qos: 1, retain: true, properties: { willDelayInterval: 5, contentType: 'text/plain' } },
  properties: { sessionExpiryInterval: 3600, receiveMaximum: 100, maximumPacketSize: 1 << 20, topicAliasMaximum: 16, requestProblemInformation: true, userProperties: { app: 'dashboard' } },
};

/** ops/s of `fn`, median of 7 timed rounds of ~150 ms each, after a warm-up. */
function measure(fn) {
  let n = 1000;
  for (let t = 0; t < 0.15; n *= 2) {
    const s = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    t = Number(process.hrtime.bigint() - s) / 1e9;
  }
  const rounds = [];
  for (let r = 0; r < 7; r++) {
    const s = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    rounds.push(n / (Number(process.hrtime.bigint() - s) / 1e9));
  }
  rounds.sort((a, b) => a - b);
  return rounds[3];
}

function row(name, theirs, ours) {
  const a = measure(theirs);
  const b = measure(ours);
  const fmt = (x) => `${(x / 1e6).toFixed(2)} M/s`.padStart(11);
  console.log(`${name.padEnd(44)} mqtt-packet ${fmt(a)}   wasmqtt ${fmt(b)}   ratio ${(b / a).toFixed(2)}x`);
  return b / a;
}

console.log(`Node ${process.version}, mqtt-packet 9.0.2; ops/s, median of 7 rounds\n`);
const cases = [
  ['PUBLISH QoS 1, 64 B, 3.1.1', publish(64, 4), 4],
  ['PUBLISH QoS 1, 64 B, 5.0', publish(64, 5), 5],
  ['PUBLISH QoS 1, 1 KB, 3.1.1', publish(1024, 4), 4],
  ['CONNECT 5.0 (properties, will)', connect5, 5],
];
for (const [name, obj, v] of cases) {
  const bytes = mqttPacket.generate(obj, { protocolVersion: v });
  const u8 = new Uint8Array(bytes);
  if (bytes.length !== encodePacket(obj, v).length) throw new Error(`${name}: encodings differ in length`);
  const parser = mqttPacket.parser({ protocolVersion: v });
  parser.on('packet', () => {});
  const ours = new Parser(v);
  row(`decode ${name}, streaming`, () => parser.parse(bytes), () => ours.push(u8));
  row(`decode ${name}, one packet`, () => { const p = mqttPacket.parser({ protocolVersion: v }); p.on('packet', () => {}); p.parse(bytes); }, () => decodePacket(u8, v));
  row(`encode ${name}`, () => mqttPacket.generate(obj, { protocolVersion: v }), () => encodePacket(obj, v));
}
