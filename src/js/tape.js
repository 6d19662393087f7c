// mqtt-packet-shaped objects in and out of the Rust codec, for both of the package's modules: the
// client (events, publish options, MQTT.js stores) and `wasmqtt/codec` (codec.js).
//
// Rust decodes and validates; it leaves a "tape" of (key, a, b) u32 triples in wasm memory,
// strings and bytes as (address, length). This module turns the tape into objects in one loop.
// Encoding goes the other way: objects become a byte tape that Rust reads, checks against the
// specification and encodes. The key numbers and the property table mirror `src/js/tape.rs` and
// the codec (src/js/contract_tests.rs fails on any difference).

import { RawPackets } from './wasmqtt_core.js';
import { wasmMemory, requireWasm, bytesView, bytesCopy, bytesAlloc } from './runtime.js';

export const K = {
  MESSAGE_ID: 1, TOPIC: 2, PAYLOAD: 3, REASON_CODE: 4, RETURN_CODE: 5, SESSION_PRESENT: 6,
  GRANTED: 7, SUB_TOPIC: 8, SUB_OPTIONS: 9, UNSUB_TOPIC: 10, SUB_OPTIONS_V5: 11,
  PROTOCOL_VERSION: 12, CLEAN: 13, KEEPALIVE: 14, CLIENT_ID: 15, USERNAME: 16, PASSWORD: 17,
  WILL_TOPIC: 18, WILL_PAYLOAD: 19, WILL_QOS: 20, WILL_RETAIN: 21, HEADER: 22, CMD: 23, QOS: 24,
  DUP: 25, RETAIN: 26, TOPIC_CACHED: 27, TOPIC_STORE: 28, PROP: 0x100, WILL_PROP: 0x200, USER_VALUE: 0xfe,
};

const CMDS = [undefined, 'connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp',
  'subscribe', 'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', 'auth'];
const CMD_CODES = Object.fromEntries(CMDS.map((c, i) => [c, i]).filter(([c]) => c));

// Property id -> [mqtt-packet name, kind]. Kinds: b(oolean) i(nteger) s(tring) x (binary)
// u(ser property) m (subscription identifier: a number, or an array when repeated).
const PROPS = {
  0x01: ['payloadFormatIndicator', 'b'], 0x02: ['messageExpiryInterval', 'i'],
  0x03: ['contentType', 's'], 0x08: ['responseTopic', 's'], 0x09: ['correlationData', 'x'],
  0x0b: ['subscriptionIdentifier', 'm'], 0x11: ['sessionExpiryInterval', 'i'],
  0x12: ['assignedClientIdentifier', 's'], 0x13: ['serverKeepAlive', 'i'],
  0x15: ['authenticationMethod', 's'], 0x16: ['authenticationData', 'x'],
  0x17: ['requestProblemInformation', 'b'], 0x18: ['willDelayInterval', 'i'],
  0x19: ['requestResponseInformation', 'b'], 0x1a: ['responseInformation', 's'],
  0x1c: ['serverReference', 's'], 0x1f: ['reasonString', 's'], 0x21: ['receiveMaximum', 'i'],
  0x22: ['topicAliasMaximum', 'i'], 0x23: ['topicAlias', 'i'], 0x24: ['maximumQoS', 'i'],
  0x25: ['retainAvailable', 'b'], 0x26: ['userProperties', 'u'], 0x27: ['maximumPacketSize', 'i'],
  0x28: ['wildcardSubscriptionAvailable', 'b'], 0x29: ['subscriptionIdentifiersAvailable', 'b'],
  0x2a: ['sharedSubscriptionAvailable', 'b'],
};
const PROP_IDS = Object.fromEntries(Object.entries(PROPS).map(([id, [name, kind]]) => [name, [+id, kind]]));

/** An MQTT packet that cannot be decoded or encoded: `rule` names the broken normative statement. */
export class MqttCodecError extends Error {
  constructor(message, rule, reasonCode) {
    super(message);
    this.name = 'MqttCodecError';
    this.rule = rule ?? (/\[(MQTT-[\d.-]+)\]/.exec(message) || [])[1];
    if (reasonCode !== undefined) this.reasonCode = reasonCode;
  }
}

// ---------------------------------------------------------------- decoding

// ignoreBOM: a leading U+FEFF is part of an MQTT string [MQTT-1.5.4-3], never a byte order mark.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
export const DEFAULT_MAX_PACKET = 16 * 1024 * 1024;
let memBuffer = null;
let u8 = null;
let u32 = null;

export function views() {
  // Reading memory.buffer costs; views over it only go stale when wasm memory grows, and then
  // the old buffer is detached (length 0).
  if (u8 !== null && u8.length !== 0) return;
  const b = wasmMemory().buffer;
  memBuffer = b;
  u8 = new Uint8Array(b);
  u32 = new Uint32Array(b);
}

function str(p, n) {
  return n === 0 ? '' : utf8.decode(u8.subarray(p, p + n));
}

// The caller's input for the current call and where it was copied to in wasm memory: bytes that
// lie wholly inside it are returned as views of the caller's buffer (no copy, as mqtt-packet does
// with Node buffers); bytes that span earlier input are copied out of wasm memory.
let inData = null;
let inAt = 0;

function bin(p, n) {
  const off = p - inAt;
  if (inData !== null && off >= 0 && off + n <= inData.length) return bytesView(inData.buffer, inData.byteOffset + off, n);
  return bytesCopy(u8, p, p + n);
}

function setProp(obj, id, a, b, state) {
  if (id === K.USER_VALUE) {
    const ups = obj.userProperties;
    const name = state.userName;
    const value = str(a, b);
    const prev = ups[name];
    if (prev === undefined) ups[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else ups[name] = [prev, value];
    return;
  }
  const [name, kind] = PROPS[id];
  switch (kind) {
    case 'b': obj[name] = a !== 0; break;
    case 'i': obj[name] = a; break;
    case 's': obj[name] = str(a, b); break;
    case 'x': obj[name] = bin(a, b); break;
    case 'u':
      if (obj.userProperties === undefined) obj.userProperties = Object.create(null);
      state.userName = str(a, b);
      break;
    case 'm': {
      const prev = obj[name];
      if (prev === undefined) obj[name] = a;
      else if (Array.isArray(prev)) prev.push(a);
      else obj[name] = [prev, a];
      break;
    }
  }
}

/** Applies one tape field to the packet being built; returns the packet (a new one at HEADER). */
function field(pkt, k, a, b, state) {
  switch (k) {
    case K.HEADER:
      state.sub = null;
      return { cmd: CMDS[a >> 4], retain: (a & 1) === 1, qos: (a >> 1) & 3, dup: (a & 8) === 8, length: b };
    case K.TOPIC: pkt.topic = str(a, b); break;
    case K.TOPIC_CACHED: pkt.topic = state.topics[a]; break;
    case K.TOPIC_STORE: state.topics[a] = pkt.topic; break;
    case K.PAYLOAD: pkt.payload = bin(a, b); break;
    case K.MESSAGE_ID: pkt.messageId = a; break;
    case K.REASON_CODE: pkt.reasonCode = a; break;
    case K.RETURN_CODE: pkt.returnCode = a; break;
    case K.SESSION_PRESENT: pkt.sessionPresent = a === 1; break;
    case K.GRANTED: (pkt.granted ??= []).push(a); break;
    case K.SUB_TOPIC: state.sub = { topic: str(a, b), qos: 0 }; (pkt.subscriptions ??= []).push(state.sub); break;
    case K.SUB_OPTIONS: state.sub.qos = a & 3; break;
    case K.SUB_OPTIONS_V5: {
      const s = state.sub;
      s.qos = a & 3; s.nl = (a & 4) !== 0; s.rap = (a & 8) !== 0; s.rh = (a >> 4) & 3;
      break;
    }
    case K.UNSUB_TOPIC: (pkt.unsubscriptions ??= []).push(str(a, b)); break;
    case K.PROTOCOL_VERSION: pkt.protocolId = a === 3 ? 'MQIsdp' : 'MQTT'; pkt.protocolVersion = a; break;
    case K.CLEAN: pkt.clean = a === 1; break;
    case K.KEEPALIVE: pkt.keepalive = a; break;
    case K.CLIENT_ID: pkt.clientId = str(a, b); break;
    case K.USERNAME: pkt.username = str(a, b); break;
    case K.PASSWORD: pkt.password = bin(a, b); break;
    case K.WILL_QOS: pkt.will = { retain: false, qos: a }; break;
    case K.WILL_RETAIN: pkt.will.retain = a === 1; break;
    case K.WILL_TOPIC: pkt.will.topic = str(a, b); break;
    case K.WILL_PAYLOAD: pkt.will.payload = bin(a, b); break;
    default:
      if (k & K.PROP) setProp(pkt.properties ??= {}, k & 0xff, a, b, state);
      else if (k & K.WILL_PROP) setProp(pkt.will.properties ??= {}, k & 0xff, a, b, state);
  }
  return pkt;
}

/** Builds packet objects from `words` u32 words of tape at word index `start`. */
export function readTape(start, words, out = [], topics = []) {
  views();
  const end = start + words;
  const state = { userName: '', sub: null, topics };
  let pkt = null;
  for (let i = start; i < end; i += 3) {
    const k = u32[i];
    const next = field(pkt, k, u32[i + 1], u32[i + 2], state);
    if (next !== pkt) out.push(pkt = next);
  }
  return out;
}

/** Reads one packet starting at word `i` up to the `end` key; returns [packet, next word]. */
export function readPacketAt(i, endKey, topics = []) {
  const state = { userName: '', sub: null, topics };
  let pkt = null;
  for (;; i += 3) {
    const k = u32[i];
    if (k === endKey) return [pkt, i + 3];
    pkt = field(pkt, k, u32[i + 1], u32[i + 2], state);
  }
}

/** A string of the tape at word `i` (address, length in the next two words). */
export function tapeString(i) {
  return str(u32[i + 1], u32[i + 2]);
}

/** Bytes of the tape at word `i`, copied out of wasm memory. */
export function tapeBytes(i) {
  return bytesCopy(u8, u32[i + 1], u32[i + 1] + u32[i + 2]);
}

/** The tape word at index `i`. */
export function word(i) {
  return u32[i];
}

export function level(protocolVersion) {
  const v = protocolVersion ?? 4;
  if (v !== 3 && v !== 4 && v !== 5) throw new TypeError(`protocolVersion must be 3, 4 or 5, not ${v}`);
  return v;
}

export function toBytes(data, what) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`${what} must be a Uint8Array or ArrayBuffer`);
}

/**
 * Reads the tape (`ptr` and `len` in u32 words) of packets decoded from `data`, which the caller
 * copied to `at` in wasm memory: their payloads are views of `data` where they lie in it.
 */
export function readInput(data, at, ptr, len, topics) {
  inData = data;
  inAt = at;
  try {
    return readTape(ptr >>> 2, len, [], topics);
  } finally {
    inData = null;
  }
}

/** Copies `data` to `at` in wasm memory (where Rust asked for it). */
export function copyIn(data, at) {
  views();
  u8.set(data, at);
}

let packets = null;

function whole() {
  if (packets === null) {
    requireWasm();
    packets = new RawPackets();
  }
  return packets;
}

/** Decodes exactly one whole packet; throws MqttCodecError on anything else. */
export function decodePacket(bytes, protocolVersion = 4) {
  const raw = whole();
  const data = toBytes(bytes, 'bytes');
  const v = level(protocolVersion);
  const at = raw.input(data.length);
  copyIn(data, at);
  if (raw.decode(v) < 0) {
    throw new MqttCodecError(raw.decode_error_message(), raw.decode_error_rule(), raw.decode_error_reason_code());
  }
  return readInput(data, at, raw.words_ptr(), raw.words_len())[0];
}

// ---------------------------------------------------------------- encoding

const utf8enc = new TextEncoder();

/**
 * Writes the byte tape Rust reads (`RawPackets`, or the client's `RawClient`) straight into wasm
 * memory: u16 key, then a u32, or a u32 length and the bytes. The tape grows through the
 * target's `tape(n)` when a field needs room.
 */
class TapeWriter {
  constructor() {
    this.enc = null;
    this.base = 0;
    this.cap = 0;
    this.pos = 0;
    this.mem = null;
    this.dv = null;
  }

  /** Starts a tape in `target` (anything with `tape(n) -> address`: the encoder, a client). */
  begin(target) {
    this.enc = target;
    this.pos = 0;
    this.cap = 0;
    this.grow(512);
  }

  /** Lets go of the target (the tape stays written; its length stays in `pos`). */
  end() {
    this.enc = null;
    return this.pos;
  }

  grow(cap) {
    this.base = this.enc.tape(cap);
    this.cap = cap;
    views();
    if (this.mem !== memBuffer) {
      this.mem = memBuffer;
      this.dv = new DataView(memBuffer);
    }
  }

  reserve(n) {
    if (this.pos + n > this.cap) this.grow(Math.max(this.cap * 2, this.pos + n));
  }

  int(key, value, what) {
    if (typeof value === 'boolean') value = value ? 1 : 0;
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new TypeError(`${what} must be a non-negative integer, not ${value}`);
    }
    this.reserve(6);
    const at = this.base + this.pos;
    this.dv.setUint16(at, key, true);
    this.dv.setUint32(at + 2, value, true);
    this.pos += 6;
  }

  bytes(key, value, what) {
    if (typeof value === 'string') {
      const n = value.length;
      this.reserve(6 + n * 3);
      const at = this.base + this.pos;
      // Short ASCII strings (topics, most payloads) are copied by hand: a call to encodeInto
      // costs more than the copy.
      let written = -1;
      if (n <= 256) {
        const o = at + 6;
        let i = 0;
        for (; i < n; i++) {
          const c = value.charCodeAt(i);
          if (c >= 0x80) break;
          u8[o + i] = c;
        }
        if (i === n) written = n;
      }
      if (written < 0) written = utf8enc.encodeInto(value, u8.subarray(at + 6, this.base + this.cap)).written;
      this.dv.setUint16(at, key, true);
      this.dv.setUint32(at + 2, written, true);
      this.pos += 6 + written;
      return;
    }
    if (value === undefined || value === null) value = EMPTY;
    else if (!(value instanceof Uint8Array)) {
      if (value instanceof ArrayBuffer) value = new Uint8Array(value);
      else if (ArrayBuffer.isView(value)) value = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      else throw new TypeError(`${what} must be a string or a Uint8Array`);
    }
    this.reserve(6 + value.length);
    const at = this.base + this.pos;
    this.dv.setUint16(at, key, true);
    this.dv.setUint32(at + 2, value.length, true);
    u8.set(value, at + 6);
    this.pos += 6 + value.length;
  }

  str(key, value, what) {
    if (typeof value !== 'string') throw new TypeError(`${what} must be a string`);
    this.bytes(key, value, what);
  }

  props(base, props) {
    if (props === undefined || props === null) return;
    if (typeof props !== 'object') throw new TypeError('properties must be an object');
    for (const name of Object.keys(props)) {
      const value = props[name];
      if (value === undefined || value === null) continue;
      const entry = PROP_IDS[name];
      if (!entry) throw new TypeError(`unknown MQTT 5 property "${name}"`);
      const [id, kind] = entry;
      const key = base | id;
      switch (kind) {
        case 'b': case 'i': this.int(key, value, name); break;
        case 's': this.str(key, value, name); break;
        case 'x': this.bytes(key, value, name); break;
        case 'm':
          for (const v of Array.isArray(value) ? value : [value]) this.int(key, v, name);
          break;
        case 'u':
          for (const k of Object.keys(value)) {
            const vs = value[k];
            for (const v of Array.isArray(vs) ? vs : [vs]) {
              this.bytes(key, k, 'user property name');
              this.bytes(base | K.USER_VALUE, String(v), 'user property value');
            }
          }
          break;
      }
    }
  }
}

const EMPTY = new Uint8Array(0);
const tw = new TapeWriter();

function optionalInt(key, value, what) {
  if (value !== undefined && value !== null) tw.int(key, value, what);
}

/** The shared tape writer, for tapes that add their own keys after a packet (client options). */
export const tapeWriter = tw;

/**
 * Writes `packet` (an mqtt-packet-shaped object) as a tape into `target`'s tape in wasm memory;
 * returns its length.
 */
export function writePacketTape(packet, target, open = false) {
  if (packet === null || typeof packet !== 'object') throw new TypeError('packet must be an object');
  const type = CMD_CODES[packet.cmd];
  if (type === undefined) throw new TypeError(`unknown packet cmd ${JSON.stringify(packet.cmd)}`);
  tw.begin(target);
  try {
    writeFields(packet, type);
  } finally {
    // The shared writer must not keep a client alive once its tape is written (`open`: the
    // caller writes more keys after the packet and lets go with `tapeWriter.end()`).
    if (!open) tw.end();
  }
  return tw.pos;
}

function writeFields(packet, type) {
  tw.int(K.CMD, type, 'cmd');
  const p = packet;
  switch (p.cmd) {
    case 'connect':
      optionalInt(K.PROTOCOL_VERSION, p.protocolVersion, 'protocolVersion');
      tw.int(K.CLEAN, p.clean ?? true, 'clean');
      tw.int(K.KEEPALIVE, p.keepalive ?? 0, 'keepalive');
      tw.props(K.PROP, p.properties);
      tw.str(K.CLIENT_ID, p.clientId ?? '', 'clientId');
      if (p.will) {
        tw.int(K.WILL_QOS, p.will.qos ?? 0, 'will.qos');
        tw.int(K.WILL_RETAIN, !!p.will.retain, 'will.retain');
        tw.props(K.WILL_PROP, p.will.properties);
        tw.str(K.WILL_TOPIC, p.will.topic, 'will.topic');
        tw.bytes(K.WILL_PAYLOAD, p.will.payload, 'will.payload');
      }
      if (p.username !== undefined && p.username !== null) tw.str(K.USERNAME, p.username, 'username');
      if (p.password !== undefined && p.password !== null) tw.bytes(K.PASSWORD, p.password, 'password');
      break;
    case 'connack':
      tw.int(K.SESSION_PRESENT, !!p.sessionPresent, 'sessionPresent');
      optionalInt(K.REASON_CODE, p.reasonCode, 'reasonCode');
      optionalInt(K.RETURN_CODE, p.returnCode, 'returnCode');
      tw.props(K.PROP, p.properties);
      break;
    case 'publish':
      tw.int(K.QOS, p.qos ?? 0, 'qos');
      tw.int(K.DUP, !!p.dup, 'dup');
      tw.int(K.RETAIN, !!p.retain, 'retain');
      tw.str(K.TOPIC, p.topic ?? '', 'topic');
      optionalInt(K.MESSAGE_ID, p.messageId, 'messageId');
      tw.props(K.PROP, p.properties);
      tw.bytes(K.PAYLOAD, p.payload, 'payload');
      break;
    case 'subscribe':
      optionalInt(K.MESSAGE_ID, p.messageId, 'messageId');
      tw.props(K.PROP, p.properties);
      for (const s of p.subscriptions ?? []) {
        tw.str(K.SUB_TOPIC, s.topic, 'subscription topic');
        const opts = (s.qos ?? 0) | (s.nl ? 4 : 0) | (s.rap ? 8 : 0) | ((s.rh ?? 0) << 4);
        tw.int(K.SUB_OPTIONS_V5, opts, 'subscription options');
      }
      break;
    case 'suback': case 'unsuback':
      optionalInt(K.MESSAGE_ID, p.messageId, 'messageId');
      tw.props(K.PROP, p.properties);
      for (const g of p.granted ?? []) tw.int(K.GRANTED, typeof g === 'object' ? g.qos : g, 'granted');
      break;
    case 'unsubscribe':
      optionalInt(K.MESSAGE_ID, p.messageId, 'messageId');
      tw.props(K.PROP, p.properties);
      for (const t of p.unsubscriptions ?? []) tw.str(K.UNSUB_TOPIC, t, 'unsubscription');
      break;
    case 'pingreq': case 'pingresp':
      break;
    default: // puback pubrec pubrel pubcomp disconnect auth
      optionalInt(K.MESSAGE_ID, p.messageId, 'messageId');
      optionalInt(K.REASON_CODE, p.reasonCode, 'reasonCode');
      tw.props(K.PROP, p.properties);
  }
}

/**
 * Encodes an mqtt-packet-shaped object. Throws TypeError for a wrongly shaped object and
 * MqttCodecError for a packet the specification does not allow.
 */
// Small results are carved out of a shared 64 KiB pool, as Node's Buffer does: allocating an
// ArrayBuffer per packet costs more than encoding it. A slice is never handed out twice.
const POOL_SIZE = 64 * 1024;
let pool = new Uint8Array(0);
let poolUsed = 0;

export function copyOut(at, n) {
  if (n > POOL_SIZE / 8) return bytesCopy(u8, at, at + n);
  if (poolUsed + n > pool.length) {
    pool = bytesAlloc(POOL_SIZE);
    poolUsed = 0;
  }
  const out = pool.subarray(poolUsed, poolUsed + n);
  out.set(u8.subarray(at, at + n));
  poolUsed += (n + 7) & ~7;
  return out;
}

export function encodePacket(packet, protocolVersion = 4) {
  const v = level(protocolVersion);
  const raw = whole();
  const len = writePacketTape(packet, raw);
  const n = raw.encode(v, len);
  if (n < 0) throw new MqttCodecError(raw.encode_error_message());
  views();
  return copyOut(raw.out_ptr(), n);
}
