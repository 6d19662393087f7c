// Differential test against mqtt-packet (the codec MQTT.js uses): thousands of random valid
// packets, both directions. What mqtt-packet writes, wasmqtt must read as mqtt-packet reads it;
// what wasmqtt writes, mqtt-packet must read as wasmqtt reads it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqttPacket from 'mqtt-packet';
import { codec, plain } from './helpers.mjs';

const { encodePacket, decodePacket } = codec;
const COUNT = Number(process.env.DIFFERENTIAL_COUNT ?? 3000);

// A small seeded generator, so a failure names a reproducible seed.
function rng(seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = {
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    bytes: (max) => Buffer.from(Array.from({ length: r.int(0, max) }, () => r.int(0, 255))),
    str: (max) => Array.from({ length: r.int(0, max) }, () => r.pick(['a', 'Z', '0', ' ', '/', 'é', '€', '😀', '$', '-'])).join(''),
    level: () => Array.from({ length: r.int(0, 4) }, () => r.pick(['a', 'b', 'x', '0', 'é', '😀', '-', '$'])).join(''),
    topic: () => {
      for (;;) {
        const t = Array.from({ length: r.int(1, 4) }, () => r.level()).join('/');
        if (t) return t;
      }
    },
    filter: (v5) => {
      const parts = Array.from({ length: r.int(1, 4) }, () => (r.chance(0.25) ? '+' : r.level()));
      if (r.chance(0.25)) parts.push('#');
      let f = parts.join('/') || '#';
      if (v5 && r.chance(0.15)) f = `$share/g${r.int(0, 9)}/${f}`;
      return f;
    },
    id: () => r.int(1, 65535),
  };
  return r;
}

const REASONS = {
  connack: [0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f],
  puback: [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99],
  pubrel: [0x00, 0x92],
  suback: [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2],
  unsuback: [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91],
  disconnect: [0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2],
  auth: [0x00, 0x18, 0x19],
};

// Properties each packet may carry (MQTT 5 section 2.2.2.2), with generators.
function propGen(r) {
  return {
    payloadFormatIndicator: () => r.chance(0.5),
    messageExpiryInterval: () => r.int(0, 0xffffffff),
    contentType: () => r.str(8),
    responseTopic: () => r.topic(),
    correlationData: () => r.bytes(8),
    subscriptionIdentifier: () => r.int(1, 268435455),
    sessionExpiryInterval: () => r.int(0, 0xffffffff),
    assignedClientIdentifier: () => r.str(10),
    serverKeepAlive: () => r.int(0, 65535),
    authenticationMethod: () => r.str(6),
    authenticationData: () => r.bytes(8),
    requestProblemInformation: () => r.chance(0.5),
    willDelayInterval: () => r.int(0, 0xffffffff),
    requestResponseInformation: () => r.chance(0.5),
    responseInformation: () => r.str(8),
    serverReference: () => r.str(12),
    reasonString: () => r.str(12),
    receiveMaximum: () => r.int(1, 65535),
    topicAliasMaximum: () => r.int(0, 65535),
    topicAlias: () => r.int(1, 65535),
    maximumQoS: () => r.int(0, 1),
    retainAvailable: () => r.chance(0.5),
    maximumPacketSize: () => r.int(1, 0xffffffff),
    wildcardSubscriptionAvailable: () => r.chance(0.5),
    subscriptionIdentifiersAvailable: () => r.chance(0.5),
    sharedSubscriptionAvailable: () => r.chance(0.5),
  };
}

const ALLOWED = {
  connect: ['sessionExpiryInterval', 'authenticationMethod', 'authenticationData', 'requestProblemInformation', 'requestResponseInformation', 'receiveMaximum', 'topicAliasMaximum', 'maximumPacketSize'],
  will: ['payloadFormatIndicator', 'messageExpiryInterval', 'contentType', 'responseTopic', 'correlationData', 'willDelayInterval'],
  connack: ['sessionExpiryInterval', 'assignedClientIdentifier', 'serverKeepAlive', 'authenticationMethod', 'authenticationData', 'responseInformation', 'serverReference', 'reasonString', 'receiveMaximum', 'topicAliasMaximum', 'maximumQoS', 'retainAvailable', 'maximumPacketSize', 'wildcardSubscriptionAvailable', 'subscriptionIdentifiersAvailable', 'sharedSubscriptionAvailable'],
  publish: ['payloadFormatIndicator', 'messageExpiryInterval', 'contentType', 'responseTopic', 'correlationData', 'subscriptionIdentifier', 'topicAlias'],
  ack: ['reasonString'],
  subscribe: ['subscriptionIdentifier'],
  unsubscribe: [],
  disconnect: ['sessionExpiryInterval', 'serverReference', 'reasonString'],
  auth: ['authenticationMethod', 'authenticationData', 'reasonString'],
};

function properties(r, kind) {
  if (r.chance(0.4)) return undefined;
  const gen = propGen(r);
  const props = {};
  for (const name of ALLOWED[kind]) if (r.chance(0.3)) props[name] = gen[name]();
  // Data without a method is a Protocol Error (MQTT 5 3.1.2.11.10), which mqtt-packet does
  // not check: a differential test must not inherit that blind spot (see codec.test.mjs).
  if (props.authenticationData !== undefined && props.authenticationMethod === undefined) {
    props.authenticationMethod = gen.authenticationMethod();
  }
  if (kind === 'publish' && props.subscriptionIdentifier !== undefined && r.chance(0.3)) {
    props.subscriptionIdentifier = [props.subscriptionIdentifier, gen.subscriptionIdentifier()];
  }
  if (r.chance(0.3)) {
    const ups = {};
    for (let i = r.int(1, 3); i > 0; i--) {
      const k = r.str(5);
      // Non-empty values: see 'repeated user properties' below for what mqtt-packet does with ''.
      const v = r.str(4) + 'v';
      ups[k] = ups[k] === undefined ? v : [].concat(ups[k], v);
    }
    props.userProperties = ups;
  }
  return Object.keys(props).length ? props : undefined;
}

function packet(r, v) {
  const v5 = v === 5;
  const cmd = r.pick(['connect', 'connack', 'publish', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', ...(v5 ? ['auth'] : [])]);
  const withProps = (p, kind) => {
    const props = v5 ? properties(r, kind) : undefined;
    return props ? { ...p, properties: props } : p;
  };
  switch (cmd) {
    case 'connect': {
      const clientId = v === 3 ? 'c'.repeat(r.int(1, 23)) : r.str(12) || 'id';
      const p = { cmd, protocolId: v === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: v, clean: r.chance(0.5), keepalive: r.int(0, 65535), clientId };
      if (r.chance(0.5)) {
        p.will = { topic: r.topic(), payload: r.bytes(12), qos: r.int(0, 2), retain: r.chance(0.5) };
        if (v5) {
          const wp = properties(r, 'will');
          if (wp) p.will.properties = wp;
        }
      }
      if (r.chance(0.5)) {
        p.username = r.str(8);
        if (r.chance(0.5)) p.password = r.bytes(8);
      }
      return withProps(p, 'connect');
    }
    case 'connack':
      return v5
        ? withProps({ cmd, sessionPresent: false, reasonCode: r.pick(REASONS.connack) }, 'connack')
        : { cmd, sessionPresent: r.chance(0.5), returnCode: 0 };
    case 'publish': {
      const qos = r.int(0, 2);
      const p = { cmd, topic: r.topic(), payload: r.bytes(r.chance(0.05) ? 3000 : 40), qos, retain: r.chance(0.5), dup: qos > 0 && r.chance(0.3) };
      if (qos > 0) p.messageId = r.id();
      return withProps(p, 'publish');
    }
    case 'puback': case 'pubrec': case 'pubrel': case 'pubcomp': {
      const p = { cmd, messageId: r.id() };
      if (v5) p.reasonCode = r.pick(cmd === 'pubrel' || cmd === 'pubcomp' ? REASONS.pubrel : REASONS.puback);
      return withProps(p, 'ack');
    }
    case 'subscribe': {
      const subscriptions = Array.from({ length: r.int(1, 4) }, () => {
        const topic = r.filter(v5);
        const s = { topic, qos: r.int(0, 2) };
        if (v5) Object.assign(s, { nl: !topic.startsWith('$share/') && r.chance(0.5), rap: r.chance(0.5), rh: r.int(0, 2) });
        return s;
      });
      return withProps({ cmd, messageId: r.id(), subscriptions }, 'subscribe');
    }
    case 'suback':
      return withProps({ cmd, messageId: r.id(), granted: Array.from({ length: r.int(1, 4) }, () => (v5 ? r.pick(REASONS.suback) : r.pick([0, 1, 2, 128]))) }, 'ack');
    case 'unsubscribe':
      return withProps({ cmd, messageId: r.id(), unsubscriptions: Array.from({ length: r.int(1, 4) }, () => r.filter(v5)) }, 'unsubscribe');
    case 'unsuback':
      return v5
        ? withProps({ cmd, messageId: r.id(), granted: Array.from({ length: r.int(1, 4) }, () => r.pick(REASONS.unsuback)) }, 'ack')
        : { cmd, messageId: r.id() };
    case 'pingreq': case 'pingresp':
      return { cmd };
    case 'disconnect':
      return v5 ? withProps({ cmd, reasonCode: r.pick(REASONS.disconnect) }, 'disconnect') : { cmd };
    case 'auth':
      return withProps({ cmd, reasonCode: r.pick(REASONS.auth) }, 'auth');
  }
  throw new Error(cmd);
}

/** What mqtt-packet's parser makes of `bytes` (a CONNECT first for the version it announces). */
function mqttPacketParse(bytes, v) {
  const parser = mqttPacket.parser({ protocolVersion: v });
  const out = [];
  parser.on('packet', (p) => out.push(p));
  parser.on('error', (e) => { throw e; });
  parser.parse(Buffer.from(bytes));
  assert.equal(out.length, 1, 'mqtt-packet parsed one packet');
  const p = { ...out[0] };
  if (p.topic === null) delete p.topic;
  if (p.payload === null) delete p.payload;
  return p;
}

// Deep copy that keeps Buffers (mqtt-packet's writer needs them; structuredClone drops the class).
function clone(x) {
  if (Buffer.isBuffer(x)) return Buffer.from(x);
  if (Array.isArray(x)) return x.map(clone);
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, clone(v)]));
  return x;
}

// Known divergence: MQTT 5 lets an AUTH with Success and no properties be sent as Remaining
// Length 0 (section 3.15.2.1), and wasmqtt writes that shortest form; mqtt-packet 9.0.2 cannot
// parse it ("Invalid auth reason code"). Checked explicitly instead of skipped.
function isShortAuth(bytes) {
  return bytes.length === 2 && bytes[0] === 0xf0 && bytes[1] === 0;
}

function check(direction, seed, v, obj, bytes) {
  if (isShortAuth(bytes)) {
    assert.throws(() => mqttPacketParse(bytes, v), /Invalid auth reason code/);
    assert.deepEqual(plain(decodePacket(bytes, v)), plain({ cmd: 'auth', retain: false, qos: 0, dup: false, length: 0, reasonCode: 0 }));
    return;
  }
  const ours = decodePacket(bytes, v);
  const theirs = mqttPacketParse(bytes, v);
  assert.deepEqual(plain(ours), plain(theirs), `${direction}, seed ${seed}, v${v}: ${JSON.stringify(obj)}`);
}

for (const v of [3, 4, 5]) {
  test(`mqtt-packet writes, wasmqtt reads (MQTT level ${v})`, () => {
    for (let seed = 1; seed <= COUNT; seed++) {
      const obj = packet(rng(seed * 7 + v), v);
      const bytes = mqttPacket.generate(clone(obj), { protocolVersion: v });
      check('mqtt-packet -> wasmqtt', seed, v, obj, bytes);
    }
  });

  test(`wasmqtt writes, mqtt-packet reads (MQTT level ${v})`, () => {
    for (let seed = 1; seed <= COUNT; seed++) {
      const obj = packet(rng(seed * 11 + v), v);
      const bytes = encodePacket(obj, v);
      check('wasmqtt -> mqtt-packet', seed, v, obj, bytes);
    }
  });
}

test('repeated user properties keep every value, even empty ones (mqtt-packet 9.0.2 drops them)', () => {
  // mqtt-packet's parser tests the previous value for truthiness, so a repeated name whose
  // earlier value is '' is overwritten. MQTT 5 keeps every user property, in order
  // [MQTT-3.3.2-17], [MQTT-3.3.2-18]; wasmqtt returns both.
  const obj = { cmd: 'publish', topic: 't', payload: Buffer.alloc(0), properties: { userProperties: { k: ['', 'x'] } } };
  const bytes = encodePacket(obj, 5);
  assert.deepEqual(decodePacket(bytes, 5).properties.userProperties.k, ['', 'x']);
  assert.equal(mqttPacketParse(bytes, 5).properties.userProperties.k, 'x');
});
