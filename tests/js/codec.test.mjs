// The codec entry of the npm package (wasmqtt/codec): encodePacket, decodePacket, Parser.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codec, plain, hex } from './helpers.mjs';

const { encodePacket, decodePacket, Parser, MqttCodecError } = codec;

test('a PUBLISH round-trips with mqtt-packet field names', () => {
  const bytes = encodePacket({ cmd: 'publish', topic: 'a/b', payload: 'hi', qos: 1, messageId: 7, retain: true }, 4);
  assert.deepEqual([...bytes], [0x33, 9, 0, 3, 0x61, 0x2f, 0x62, 0, 7, 0x68, 0x69]);
  const p = decodePacket(bytes, 4);
  assert.equal(p.cmd, 'publish');
  assert.equal(p.topic, 'a/b');
  assert.equal(p.messageId, 7);
  assert.equal(p.qos, 1);
  assert.equal(p.retain, true);
  assert.equal(p.dup, false);
  assert.equal(p.length, 9);
  assert.ok(p.payload instanceof Uint8Array);
  assert.equal(new TextDecoder().decode(p.payload), 'hi');
});

test('MQTT 5 properties use mqtt-packet names and shapes', () => {
  const props = {
    payloadFormatIndicator: true,
    messageExpiryInterval: 60,
    contentType: 'application/json',
    responseTopic: 'reply/to',
    correlationData: new Uint8Array([1, 2, 3]),
    subscriptionIdentifier: [5, 300],
    topicAlias: 3,
    userProperties: { a: '1', b: ['x', 'y'] },
  };
  const p = decodePacket(encodePacket({ cmd: 'publish', topic: 't', payload: new Uint8Array([9]), properties: props }, 5), 5);
  assert.deepEqual(plain(p.properties), plain(props));
});

test('every packet type round-trips', () => {
  const packets = [
    [{ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 30, clientId: 'c', username: 'u', password: new Uint8Array([112]), will: { topic: 'w', payload: new Uint8Array([1]), qos: 1, retain: true } }, 4],
    [{ cmd: 'connect', protocolId: 'MQIsdp', protocolVersion: 3, clean: false, keepalive: 10, clientId: 'old' }, 3],
    [{ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, keepalive: 0, clientId: '', properties: { sessionExpiryInterval: 300, receiveMaximum: 20, topicAliasMaximum: 10, requestProblemInformation: true }, will: { topic: 'w', payload: new Uint8Array(), qos: 0, retain: false, properties: { willDelayInterval: 30 } } }, 5],
    [{ cmd: 'connack', sessionPresent: true, returnCode: 0 }, 4],
    [{ cmd: 'connack', sessionPresent: false, reasonCode: 0x86, properties: { reasonString: 'no' } }, 5],
    [{ cmd: 'puback', messageId: 1 }, 4],
    [{ cmd: 'pubrec', messageId: 2, reasonCode: 0x10 }, 5],
    [{ cmd: 'pubrel', messageId: 3, reasonCode: 0 }, 5],
    [{ cmd: 'pubcomp', messageId: 4, reasonCode: 0x92, properties: { reasonString: 'gone' } }, 5],
    [{ cmd: 'subscribe', messageId: 5, subscriptions: [{ topic: 'a/+', qos: 1 }, { topic: '#', qos: 2 }] }, 4],
    [{ cmd: 'subscribe', messageId: 6, subscriptions: [{ topic: 'a', qos: 1, nl: true, rap: true, rh: 2 }], properties: { subscriptionIdentifier: 9 } }, 5],
    [{ cmd: 'suback', messageId: 5, granted: [1, 2, 128] }, 4],
    [{ cmd: 'unsubscribe', messageId: 7, unsubscriptions: ['a/+', 'b'] }, 4],
    [{ cmd: 'unsuback', messageId: 7 }, 4],
    [{ cmd: 'unsuback', messageId: 7, granted: [0, 17] }, 5],
    [{ cmd: 'pingreq' }, 4],
    [{ cmd: 'pingresp' }, 5],
    [{ cmd: 'disconnect' }, 4],
    [{ cmd: 'disconnect', reasonCode: 0x9c, properties: { serverReference: 'other:1883' } }, 5],
    [{ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM', authenticationData: new Uint8Array([1]) } }, 5],
  ];
  for (const [packet, v] of packets) {
    const back = decodePacket(encodePacket(packet, v), v);
    const expected = { retain: false, qos: 0, dup: false, ...packet };
    if (['pubrel', 'subscribe', 'unsubscribe'].includes(packet.cmd)) expected.qos = 1; // flags 0010
    delete back.length;
    assert.deepEqual(plain(back), plain(expected), packet.cmd);
  }
});

test('the streaming parser takes packets split and joined', () => {
  const a = encodePacket({ cmd: 'publish', topic: 'x', payload: 'one' }, 4);
  const b = encodePacket({ cmd: 'pingresp' }, 4);
  const stream = new Uint8Array([...a, ...b, ...a]);
  for (let split = 0; split <= stream.length; split++) {
    const parser = new Parser(4);
    const got = [...parser.push(stream.subarray(0, split)), ...parser.push(stream.subarray(split))];
    assert.deepEqual(got.map((p) => p.cmd), ['publish', 'pingresp', 'publish'], `split ${split}`);
    assert.equal(new TextDecoder().decode(got[2].payload), 'one');
  }
});

test('payloads stay intact when later input reuses wasm memory', () => {
  const parser = new Parser(4);
  const first = parser.push(encodePacket({ cmd: 'publish', topic: 'x', payload: 'first' }, 4))[0];
  // A packet split across pushes is copied out of wasm memory rather than viewed in the input.
  const second = encodePacket({ cmd: 'publish', topic: 'y', payload: 'second' }, 4);
  parser.push(second.subarray(0, 4));
  const got = parser.push(second.subarray(4))[0];
  parser.push(encodePacket({ cmd: 'publish', topic: 'z', payload: 'zzzzzzzzzzzz' }, 4));
  assert.equal(new TextDecoder().decode(first.payload), 'first');
  assert.equal(new TextDecoder().decode(got.payload), 'second');
});

test('a CONNECT switches the parser to the version it asks for', () => {
  const parser = new Parser(4);
  const connect = encodePacket({ cmd: 'connect', protocolVersion: 5, clientId: 'c', keepalive: 1 }, 5);
  const publish = encodePacket({ cmd: 'publish', topic: 't', payload: 'p', properties: { contentType: 'x' } }, 5);
  const got = parser.push(new Uint8Array([...connect, ...publish]));
  assert.equal(parser.protocolVersion, 5);
  assert.equal(got[1].properties.contentType, 'x');
});

test('malformed input throws MqttCodecError naming the rule [MQTT-3.3.1-4]', () => {
  assert.throws(() => decodePacket(hex('36 05 00 01 61 00 01'), 4), (e) => {
    assert.ok(e instanceof MqttCodecError);
    assert.equal(e.rule, 'MQTT-3.3.1-4');
    assert.equal(e.reasonCode, 0x81);
    assert.match(e.message, /QoS 3/);
    return true;
  });
});

test('a corrupt stream stays failed [MQTT-3.6.1-1]', () => {
  const parser = new Parser(4);
  assert.throws(() => parser.push(hex('60 02 00 01')), /MQTT-3\.6\.1-1/);
  assert.throws(() => parser.push(hex('c0 00')), /MQTT-3\.6\.1-1/);
  parser.reset();
  assert.deepEqual(parser.push(hex('c0 00')).map((p) => p.cmd), ['pingreq']);
});

test('decodePacket wants exactly one whole packet', () => {
  assert.throws(() => decodePacket(hex('30 05 00 01'), 4), /incomplete packet/);
  assert.throws(() => decodePacket(hex('c0 00 c0 00'), 4), /bytes follow the packet/);
  assert.throws(() => decodePacket(new Uint8Array(), 4), /incomplete/);
});

test('maxPacketSize is enforced from the fixed header', () => {
  const parser = new Parser(5, { maxPacketSize: 100 });
  assert.throws(() => parser.push(hex('30 c0 84 3d')), (e) => e.reasonCode === 0x95 && /maximum packet size of 100/.test(e.message));
});

test('encoding refuses packets the specification forbids', () => {
  const cases = [
    [{ cmd: 'publish', topic: 'a/#', payload: '' }, 4, /wildcards/],
    [{ cmd: 'publish', topic: 'a', payload: '', qos: 1 }, 4, /non-zero Packet Identifier/],
    [{ cmd: 'subscribe', messageId: 1, subscriptions: [] }, 4, /at least one topic filter/],
    [{ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#/b', qos: 0 }] }, 4, /'#'/],
    [{ cmd: 'publish', topic: 'a', payload: '', properties: { sessionExpiryInterval: 1 } }, 5, /not allowed in PUBLISH/],
    [{ cmd: 'publish', topic: 'a', payload: '', properties: { topicAlias: 1 } }, 4, /need MQTT 5/],
    [{ cmd: 'auth', reasonCode: 0 }, 4, /AUTH packets need MQTT 5/],
    [{ cmd: 'connect', protocolVersion: 4, clientId: '', clean: false }, 4, /MQTT-3\.1\.3-7/],
  ];
  for (const [packet, v, message] of cases) {
    assert.throws(() => encodePacket(packet, v), (e) => e instanceof MqttCodecError && message.test(e.message), JSON.stringify(packet));
  }
});

test('wrongly shaped objects are TypeErrors', () => {
  assert.throws(() => encodePacket({ cmd: 'nope' }, 4), TypeError);
  assert.throws(() => encodePacket({ cmd: 'publish', topic: 5 }, 4), TypeError);
  assert.throws(() => encodePacket({ cmd: 'publish', topic: 't', properties: { bogus: 1 } }, 5), /unknown MQTT 5 property "bogus"/);
  assert.throws(() => encodePacket({ cmd: 'publish', topic: 't', messageId: -1 }, 4), TypeError);
  assert.throws(() => new Parser(6), /protocolVersion must be 3, 4 or 5/);
});

test('non-ASCII strings survive both ways', () => {
  const topic = 'cafés/€/😀/\u{feff}';
  const p = decodePacket(encodePacket({ cmd: 'publish', topic, payload: 'ü', properties: { userProperties: { 'ключ': 'значение' } } }, 5), 5);
  assert.equal(p.topic, topic);
  assert.equal(p.properties.userProperties['ключ'], 'значение');
  assert.equal(new TextDecoder().decode(p.payload), 'ü');
  // Short ASCII strings take a hand-written copy; a non-ASCII character anywhere, or a long
  // string, goes through TextEncoder. Both paths, and their edges:
  for (const s of ['', 'a', 'a'.repeat(255) + 'é', 'é' + 'a'.repeat(200), 'a'.repeat(256), 'a'.repeat(257), 'b'.repeat(300) + '€', '\u007f\u0080']) {
    const q = decodePacket(encodePacket({ cmd: 'publish', topic: 't/' + s, payload: s }, 4), 4);
    assert.equal(q.topic, 't/' + s);
    assert.equal(new TextDecoder().decode(q.payload), s);
  }
});

test('a U+FEFF at the start of a string is kept, never stripped as a byte order mark [MQTT-1.5.4-3]', () => {
  // Found by an independent conformance corpus: TextDecoder strips a leading BOM unless told
  // not to, so topics, user properties and every other string lost their first character.
  const topic = '\uFEFFa/b';
  const props = { userProperties: { '\uFEFFk': '\uFEFFv' }, contentType: '\uFEFFtext' };
  const bytes = encodePacket({ cmd: 'publish', topic, payload: 'x', qos: 0, properties: props }, 5);
  const p = decodePacket(bytes, 5);
  assert.equal(p.topic, topic);
  assert.deepEqual(plain(p.properties.userProperties), { '\uFEFFk': '\uFEFFv' });
  assert.equal(p.properties.contentType, '\uFEFFtext');
  const parser = new Parser(5);
  const [q] = parser.push(bytes);
  assert.equal(q.topic, topic);
});

test('Authentication Data without an Authentication Method is refused both ways (a Protocol Error, MQTT 5 3.1.2.11.10)', () => {
  const bytes = new Uint8Array([0x10, 0x12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 5, 2, 0, 60, 4, 0x16, 0, 1, 0x61, 0, 1, 0x63]);
  assert.throws(() => decodePacket(bytes, 5), (e) => e instanceof MqttCodecError && e.reasonCode === 0x82);
  assert.throws(() => encodePacket({ cmd: 'connect', protocolVersion: 5, clientId: 'c', properties: { authenticationData: new Uint8Array([1]) } }, 5), MqttCodecError);
});

test('a Parser refuses a packet over its maximum from the fixed header (default 16 MiB), and headers alone cannot exhaust memory', () => {
  // Defect 10 of the reliability issue: the Parser reserved its maximum (256 MiB by default)
  // from a 5-byte header, and a few such headers trapped the module.
  const parsers = [];
  for (let i = 0; i < 20; i++) {
    const p = new Parser(5, { maxPacketSize: 0 });
    assert.deepEqual(p.push(new Uint8Array([0x30, 0xff, 0xff, 0xff, 0x7f])), []);
    parsers.push(p);
  }
  const p = new Parser(5);
  assert.throws(() => p.push(new Uint8Array([0x30, 0x80, 0x80, 0x80, 0x08])), (e) => e instanceof MqttCodecError && e.reasonCode === 0x95);
});
