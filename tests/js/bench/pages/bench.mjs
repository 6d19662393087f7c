// The page side of the browser benchmark (tests/js/bench/browser.bench.mjs drives it over raw
// CDP, so DevTools network tracking stays off). `?lib=` picks what is measured:
//
//   wasmqtt  the package in pkg/
//   mqttjs   MQTT.js 5 (its browser bundle, as a page would load it)
//   mini     a minimal no-library MQTT 5.0 reader/writer on a WebSocket (the client ceiling)
//   plain    a plain WebSocket that only counts bytes (the WebSocket ceiling; QoS 0 only)
//
// Every library gets the same small interface: subscribe, onMessage, publish, end.

const LIB = new URLSearchParams(location.search).get('lib');
// The MQTT version the libraries speak (`v=4`: 3.1.1; the raw anchors always speak 5).
const VERSION = Number(new URLSearchParams(location.search).get('v') ?? 5);
const now = () => performance.timeOrigin + performance.now();
const utf8 = new TextEncoder();
const text = new TextDecoder();

// ---- the minimal MQTT 5.0 reader/writer -------------------------------------------------------

function varint(n, out) {
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 128;
    out.push(b);
  } while (n > 0);
}

function packet(first, body) {
  const head = [first];
  varint(body.length, head);
  const p = new Uint8Array(head.length + body.length);
  p.set(head);
  p.set(body, head.length);
  return p;
}

function str(s) {
  const b = utf8.encode(s);
  return [b.length >> 8, b.length & 255, ...b];
}

const connectPacket = (clientId) => packet(0x10, [0, 4, 77, 81, 84, 84, 5, 0x02, 0, 60, 0, ...str(clientId)]);
const subscribePacket = (id, topic, qos) => packet(0x82, [id >> 8, id & 255, 0, ...str(topic), qos]);

/** Writes PUBLISH packets straight into a growing buffer; one WebSocket message per task. */
class Writer {
  constructor(ws) {
    this.ws = ws;
    this.buf = new Uint8Array(1 << 16);
    this.len = 0;
    this.scheduled = false;
  }

  reserve(n) {
    if (this.len + n > this.buf.length) {
      const b = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
      b.set(this.buf.subarray(0, this.len));
      this.buf = b;
    }
  }

  bytes(p) {
    this.reserve(p.length);
    this.buf.set(p, this.len);
    this.len += p.length;
    this.schedule();
  }

  publish(topicBytes, payloadBytes, qos, id) {
    const rem = 2 + topicBytes.length + (qos ? 2 : 0) + 1 + payloadBytes.length;
    this.reserve(rem + 5);
    const b = this.buf;
    let i = this.len;
    b[i++] = 0x30 | (qos << 1);
    let n = rem;
    do {
      let x = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) x |= 128;
      b[i++] = x;
    } while (n > 0);
    b[i++] = topicBytes.length >> 8;
    b[i++] = topicBytes.length & 255;
    b.set(topicBytes, i);
    i += topicBytes.length;
    if (qos) {
      b[i++] = id >> 8;
      b[i++] = id & 255;
    }
    b[i++] = 0;
    b.set(payloadBytes, i);
    this.len = i + payloadBytes.length;
    this.schedule();
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.ws.send(this.buf.subarray(0, this.len));
      this.len = 0;
    });
  }
}

function openSocket(url) {
  const ws = new WebSocket(url, 'mqtt');
  ws.binaryType = 'arraybuffer';
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error('WebSocket failed'));
  });
}

/** Splits a byte stream into MQTT packets: calls `handle(firstByte, body)` for each. */
function packetReader(handle) {
  let carry = null;
  return (data) => {
    let b = new Uint8Array(data);
    if (carry) {
      const c = new Uint8Array(carry.length + b.length);
      c.set(carry);
      c.set(b, carry.length);
      b = c;
      carry = null;
    }
    let i = 0;
    while (i < b.length) {
      let j = i + 1;
      let len = 0;
      let mul = 1;
      let complete = false;
      while (j < b.length) {
        const x = b[j++];
        len += (x & 127) * mul;
        mul *= 128;
        if (!(x & 128)) {
          complete = true;
          break;
        }
      }
      if (!complete || j + len > b.length) break;
      handle(b[i], b.subarray(j, j + len));
      i = j + len;
    }
    if (i < b.length) carry = b.slice(i);
  };
}

async function mini(url, clientId) {
  const ws = await openSocket(url);
  const w = new Writer(ws);
  const pending = new Map();
  let nextId = 1;
  let onMessage = () => {};
  let connack;
  const connected = new Promise((r) => { connack = r; });
  ws.onmessage = (e) => read(e.data);
  const read = packetReader((first, body) => {
    const type = first >> 4;
    if (type === 3) {
      const qos = (first >> 1) & 3;
      const tl = (body[0] << 8) | body[1];
      const topic = text.decode(body.subarray(2, 2 + tl));
      let i = 2 + tl;
      let id = 0;
      if (qos) {
        id = (body[i] << 8) | body[i + 1];
        i += 2;
      }
      let plen = 0;
      let mul = 1;
      for (;;) {
        const x = body[i++];
        plen += (x & 127) * mul;
        mul *= 128;
        if (!(x & 128)) break;
      }
      onMessage(topic, body.subarray(i + plen));
      if (qos === 1) w.bytes(new Uint8Array([0x40, 2, id >> 8, id & 255]));
      if (qos === 2) w.bytes(new Uint8Array([0x50, 2, id >> 8, id & 255]));
    } else if (type === 2) {
      connack();
    } else if (type === 4 || type === 7 || type === 9 || type === 11) {
      const id = (body[0] << 8) | body[1];
      const done = pending.get(id);
      pending.delete(id);
      done?.();
    } else if (type === 5) {
      const id = (body[0] << 8) | body[1];
      w.bytes(new Uint8Array([0x62, 2, id >> 8, id & 255]));
    } else if (type === 6) {
      const id = (body[0] << 8) | body[1];
      w.bytes(new Uint8Array([0x70, 2, id >> 8, id & 255]));
    }
  });
  w.bytes(connectPacket(clientId));
  await connected;
  const take = () => {
    const id = nextId;
    nextId = nextId === 65535 ? 1 : nextId + 1;
    return id;
  };
  return {
    onMessage: (fn) => { onMessage = fn; },
    subscribe: (topic, qos) => new Promise((resolve) => {
      const id = take();
      pending.set(id, resolve);
      w.bytes(subscribePacket(id, topic, qos));
    }),
    publish(topic, payload, qos) {
      const t = utf8.encode(topic);
      const p = typeof payload === 'string' ? utf8.encode(payload) : payload;
      if (!qos) {
        w.publish(t, p, 0, 0);
        return undefined;
      }
      return new Promise((resolve) => {
        const id = take();
        pending.set(id, resolve);
        w.publish(t, p, qos, id);
      });
    },
    end: async () => { w.bytes(new Uint8Array([0xe0, 0])); ws.close(); },
  };
}

/** A plain WebSocket: MQTT set-up bytes written by hand, then only bytes counted / sent. */
async function plain(url, clientId) {
  const ws = await openSocket(url);
  let onData = () => {};
  let first = true;
  let connack;
  let suback;
  ws.onmessage = (e) => {
    if (first) {
      first = false;
      connack();
      return;
    }
    onData(e.data.byteLength);
  };
  await new Promise((r) => { connack = r; ws.send(connectPacket(clientId)); });
  return {
    /** Calls `fn(bytes)` per WebSocket message. */
    onData: (fn) => { onData = fn; },
    subscribe: (topic, qos) => new Promise((resolve) => {
      suback = resolve;
      onData = () => suback();
      ws.send(subscribePacket(1, topic, qos));
    }),
    /** Sends `n` copies of one pre-encoded PUBLISH, 64 KiB per WebSocket message. */
    sendCopies(topic, payload, n) {
      const w = new Writer({ send() {} });
      w.publish(utf8.encode(topic), utf8.encode(payload), 0, 0);
      const one = w.buf.slice(0, w.len);
      const per = Math.max(1, Math.floor(65536 / one.length));
      const chunk = new Uint8Array(per * one.length);
      for (let k = 0; k < per; k++) chunk.set(one, k * one.length);
      for (let sent = 0; sent < n; sent += per) {
        const k = Math.min(per, n - sent);
        ws.send(k === per ? chunk : chunk.subarray(0, k * one.length));
      }
    },
    end: async () => { ws.send(new Uint8Array([0xe0, 0])); ws.close(); },
  };
}

async function wasmqttLib(url, clientId, persistent = false) {
  const m = await import('/pkg/wasmqtt.js');
  const wasm = await m.default();
  // `persistent`: a session that survives a reload, so every round of messages is committed to
  // IndexedDB before it is sent (group commit).
  const expiry = VERSION === 5 ? { properties: { sessionExpiryInterval: 60 } } : {};
  const more = persistent ? { clean: false, ...expiry, persistence: 'indexeddb', persistenceKey: clientId } : {};
  const c = await m.connectAsync(url, { clientId, protocolVersion: VERSION, keepalive: 60, reconnectPeriod: 0, ...more });
  if (persistent) c.clearStoredSession();
  // Found by type: the package's build shortens export names.
  const memory = Object.values(wasm).find((v) => v instanceof WebAssembly.Memory);
  window.wasmMemoryBytes = () => memory.buffer.byteLength;
  return {
    onMessage: (fn) => c.on('message', fn),
    subscribe: (topic, qos) => c.subscribeAsync(topic, { qos }),
    publish: (topic, payload, qos) => (qos ? c.publishAsync(topic, payload, { qos }) : c.publish(topic, payload, { qos: 0 }) && undefined),
    end: async () => {
      await c.endAsync();
      if (persistent) c.clearStoredSession();
    },
  };
}

async function mqttjsLib(url, clientId) {
  const mqtt = (await import('/tests/js/node_modules/mqtt/dist/mqtt.esm.js')).default;
  const c = await mqtt.connectAsync(url, { clientId, protocolVersion: VERSION, keepalive: 60, reconnectPeriod: 0 });
  return {
    onMessage: (fn) => c.on('message', fn),
    subscribe: (topic, qos) => c.subscribeAsync(topic, { qos }),
    publish: (topic, payload, qos) => (qos ? c.publishAsync(topic, payload, { qos }) : c.publish(topic, payload, { qos: 0 }) && undefined),
    end: () => c.endAsync(),
  };
}

const LIBS = { wasmqtt: wasmqttLib, wasmqttp: (url, id) => wasmqttLib(url, id, true), mqttjs: mqttjsLib, mini, plain };

let lib = null;
let received = null;

window.bench = {
  async connect(url) {
    lib = await LIBS[LIB](url, `bench-${LIB}-${Math.random().toString(36).slice(2, 8)}`);
    return true;
  },

  /** Subscribes to `topic` and counts what arrives (messages, or for `plain` bytes). */
  async prepareReceive(topic, expected) {
    received = { count: 0, first: 0, last: 0, expected };
    const r = received;
    let resolveDone;
    r.done = new Promise((ok) => { resolveDone = ok; });
    const tick = (k) => {
      if (r.count === 0) r.first = now();
      r.count += k;
      if (r.count >= r.expected) {
        r.last = now();
        resolveDone();
      }
    };
    if (LIB === 'plain') {
      await lib.subscribe(topic, 0);
      lib.onData((bytes) => tick(bytes));
    } else {
      let sum = 0;
      lib.onMessage((t, payload) => {
        sum += payload.length;
        tick(1);
      });
      await lib.subscribe(topic, 0);
      r.sum = () => sum;
    }
    return true;
  },

  /** Waits until everything expected arrived, or `idleMs` passes with nothing new. */
  async awaitReceive(idleMs) {
    const r = received;
    for (;;) {
      const before = r.count;
      const timeout = new Promise((ok) => setTimeout(ok, idleMs, 'idle'));
      if ((await Promise.race([r.done, timeout])) !== 'idle') break;
      if (r.count === before) break;
    }
    return { count: r.count, first: r.first, last: r.last || now() };
  },

  /** Issues `n` QoS 0 publishes at once; returns when they are issued, with the start time. */
  burst(topic, payload, n) {
    const start = now();
    if (LIB === 'plain') {
      lib.sendCopies(topic, payload, n);
    } else {
      for (let i = 0; i < n; i++) lib.publish(topic, payload, 0);
    }
    return { start, issuedMs: now() - start };
  },

  /** `n` QoS 1 or 2 publishes issued at once; resolves when every flow has completed. */
  async publishAll(topic, payload, n, qos) {
    const start = now();
    const all = [];
    for (let i = 0; i < n; i++) all.push(lib.publish(topic, payload, qos));
    await Promise.all(all);
    return { ms: now() - start };
  },

  /** QoS 1 round trips (publish to PUBACK) one after another: p50 and p99 in ms. */
  async roundTrips(topic, payload, n, warmup) {
    const times = [];
    for (let i = 0; i < warmup + n; i++) {
      const t = performance.now();
      await lib.publish(topic, payload, 1);
      if (i >= warmup) times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
    return { p50: q(0.5), p99: q(0.99), mean: times.reduce((a, b) => a + b, 0) / times.length };
  },

  async end() {
    await lib.end();
    return true;
  },
};
window.benchReady = true;
