// MQTT.js's Store interface: the in-memory Store class, and the adapter that keeps a client's
// session in the stores an application gives (`incomingStore`, `outgoingStore`) instead of
// IndexedDB. What the entries mean is decided in Rust (src/proto/mirror.rs); this file only
// turns them into MQTT.js packets and back.

import { encodePacket, decodePacket } from './tape.js';

/** Keys from here up are messages still queued (no packet identifier yet). */
const QUEUED_BASE = 65536;

/**
 * A stream of the packets a Store holds, with the part of Node's object-mode Readable that
 * store consumers use: 'data', 'end', 'close' and 'error' events, `read()`, `destroy()` and
 * async iteration. (MQTT.js's Store returns a readable-stream Readable; this avoids the
 * dependency.)
 */
class PacketStream {
  constructor(values) {
    this._values = values;
    this._i = 0;
    this._listeners = {};
    this._flowing = false;
    this.destroyed = false;
  }

  on(event, fn) {
    (this._listeners[event] ??= []).push(fn);
    if (event === 'data' && !this._flowing) {
      this._flowing = true;
      queueMicrotask(() => this._flow());
    }
    return this;
  }

  once(event, fn) {
    const wrapped = (...args) => {
      this.removeListener(event, wrapped);
      fn(...args);
    };
    return this.on(event, wrapped);
  }

  removeListener(event, fn) {
    this._listeners[event] = (this._listeners[event] ?? []).filter((f) => f !== fn);
    return this;
  }

  _emit(event, ...args) {
    for (const f of [...(this._listeners[event] ?? [])]) f(...args);
  }

  _flow() {
    while (!this.destroyed && this._i < this._values.length) this._emit('data', this._values[this._i++]);
    this._finish();
  }

  _finish() {
    if (this.destroyed) return;
    this.destroyed = true;
    this._emit('end');
    this._emit('close');
  }

  /** The next packet, or null at the end. */
  read() {
    return !this.destroyed && this._i < this._values.length ? this._values[this._i++] : null;
  }

  destroy() {
    if (!this.destroyed) {
      this.destroyed = true;
      queueMicrotask(() => this._emit('close'));
    }
    return this;
  }

  async *[Symbol.asyncIterator]() {
    while (!this.destroyed && this._i < this._values.length) yield this._values[this._i++];
  }
}

/**
 * MQTT.js's in-memory Store: packets by messageId. `options.clean` (default true): `close()`
 * forgets them.
 */
export class Store {
  constructor(options = {}) {
    this.options = { clean: true, ...options };
    this._inflights = new Map();
  }

  put(packet, cb) {
    this._inflights.set(packet.messageId, packet);
    cb?.();
    return this;
  }

  createStream() {
    return new PacketStream([...this._inflights.values()]);
  }

  del(packet, cb) {
    const found = this._inflights.get(packet.messageId);
    if (found) {
      this._inflights.delete(packet.messageId);
      cb?.(null, found);
    } else {
      cb?.(new Error('missing packet'));
    }
    return this;
  }

  get(packet, cb) {
    const found = this._inflights.get(packet.messageId);
    if (found) cb?.(null, found);
    else cb?.(new Error('missing packet'));
    return this;
  }

  close(cb) {
    if (this.options.clean) this._inflights = new Map();
    cb?.();
  }
}

/** Every packet a store holds (its createStream, read to the end). */
function readAll(store, name) {
  return new Promise((resolve, reject) => {
    const out = [];
    let stream;
    try {
      stream = store.createStream();
    } catch (e) {
      reject(new Error(`${name}.createStream() threw: ${e?.message ?? e}`));
      return;
    }
    stream.on('data', (p) => out.push(p));
    stream.on('end', () => resolve(out));
    stream.on('error', (e) => reject(new Error(`${name}'s stream failed: ${e?.message ?? e}`)));
  });
}

/** Calls store[method](arg, cb) as a promise; `missingOk`: a missing packet is no error. */
function call(store, name, method, arg, missingOk = false) {
  return new Promise((resolve, reject) => {
    try {
      store[method](arg, (err) => {
        if (err && !(missingOk && /missing/i.test(err.message ?? ''))) {
          reject(new Error(`${name}.${method}(${arg.messageId}) failed: ${err.message ?? err}`));
        } else {
          resolve();
        }
      });
    } catch (e) {
      reject(new Error(`${name}.${method}(${arg.messageId}) threw: ${e?.message ?? e}`));
    }
  });
}

/** An outgoing entry (see src/web/stores.rs) as the MQTT.js packet the store keeps. */
function packetOf([key, bytes, order, publishedAt, removed]) {
  const packet = decodePacket(bytes, 5);
  packet.messageId = key; // a queued message's key stands in for the identifier it lacks
  if (packet.cmd === 'publish' && packet.properties && Object.keys(packet.properties).length === 0) {
    delete packet.properties;
  }
  packet.wasmqtt = { order, publishedAt, removed };
  return packet;
}

/** A packet read from the outgoing store as an entry, or null if it is not one. */
function entryOf(packet) {
  if (packet?.cmd !== 'publish' && packet?.cmd !== 'pubrel') return null;
  const key = packet.messageId;
  const w = packet.wasmqtt ?? {};
  const copy = { ...packet, messageId: key >= QUEUED_BASE ? 1 : key };
  delete copy.wasmqtt;
  return [key, encodePacket(copy, 5), w.order ?? null, w.publishedAt ?? null, !!w.removed];
}

/**
 * The adapter the Rust driver saves through (src/web/stores.rs): load, save and clear over an
 * incoming and an outgoing store. `deliver(packet)` gets the QoS 2 messages an incoming store
 * holds undelivered (MQTT.js writes them there and delivers at PUBREL); they are delivered
 * once, at load, and the entry rewritten as received.
 */
export function storesAdapter(incoming, outgoing, deliver) {
  return {
    async load() {
      const [out, inc] = await Promise.all([readAll(outgoing, 'outgoingStore'), readAll(incoming, 'incomingStore')]);
      const entries = [];
      for (const p of out) {
        const e = entryOf(p);
        if (e === null) throw new Error(`outgoingStore holds a packet that is neither a PUBLISH nor a PUBREL: ${p?.cmd}`);
        entries.push(e);
      }
      const ids = [];
      for (const p of inc) {
        if (!Number.isInteger(p?.messageId)) continue;
        ids.push(p.messageId);
        if (p.cmd === 'publish') {
          deliver(p);
          await call(incoming, 'incomingStore', 'put', { cmd: 'pubrec', messageId: p.messageId });
        }
      }
      return { outgoing: entries, incoming: ids };
    },
    async save(puts, dels, incomingPuts, incomingDels) {
      await Promise.all([
        ...puts.map((e) => call(outgoing, 'outgoingStore', 'put', packetOf(e))),
        ...dels.map((k) => call(outgoing, 'outgoingStore', 'del', { messageId: k }, true)),
        ...incomingPuts.map((id) => call(incoming, 'incomingStore', 'put', { cmd: 'pubrec', messageId: id })),
        ...incomingDels.map((id) => call(incoming, 'incomingStore', 'del', { messageId: id }, true)),
      ]);
    },
    async clear() {
      const [out, inc] = await Promise.all([readAll(outgoing, 'outgoingStore'), readAll(incoming, 'incomingStore')]);
      await Promise.all([
        ...out.map((p) => call(outgoing, 'outgoingStore', 'del', { messageId: p.messageId }, true)),
        ...inc.map((p) => call(incoming, 'incomingStore', 'del', { messageId: p.messageId }, true)),
      ]);
    },
  };
}
