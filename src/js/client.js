// Length: MQTT.js's client API is large (methods, callbacks and promises, events, options);
// it is one class, and the tape and codec helpers are in tape.js.
//
// The MQTT.js-compatible client of the wasmqtt package: options, events, callbacks and promises
// as MQTT.js has them, over the Rust client (`RawClient`). Where wasmqtt goes further (backoff
// with jitter, outbox policy, persistence, liveness, takeover handling) the options are named in
// README.md and wasmqtt.d.ts.

import { RawClient } from './wasmqtt_core.js';
import { K, views, readPacketAt, tapeString, tapeBytes, word, writePacketTape, tapeWriter } from './tape.js';
import { isLoaded, load, sockets, bytesAlloc } from './runtime.js';
import { Store, storesAdapter } from './store.js';
import { idOrder } from './message-ids.js';

// Option keys of the options tape (bit 0x800: bytes). Mirrors `cfg` in src/js/client.rs
// (src/js/contract_tests.rs fails on any difference).
const CFG = {
  URL: 0xc01, PERSISTENCE_KEY: 0xc02, CONNECT_TIMEOUT: 0x401, RECONNECT_INITIAL: 0x402,
  RECONNECT_MAX: 0x403, STABLE_AFTER: 0x404, BUSY_DELAY: 0x405, TAKEOVER_WINDOW: 0x406,
  TAKEOVER_THRESHOLD: 0x407, MAX_REDIRECTS: 0x408, PING_TIMEOUT: 0x409, OUTBOX_MAX_MESSAGES: 0x40a,
  OUTBOX_MAX_BYTES: 0x40b, OUTBOX_POLICY: 0x40c, QUEUE_QOS0: 0x40d, MAX_INFLIGHT: 0x40e,
  PERSISTENCE: 0x40f, WORKER_TIMER: 0x410, HIGH_WATER: 0x411, SEED_LO: 0x412, SEED_HI: 0x413,
  DISCONNECT_TIMEOUT: 0x414, REDIRECT_CREDENTIALS: 0x415, LOWEST_FREE_IDS: 0x416,
};

// Event tape keys. Mirrors `ev` in src/js/client.rs (checked by src/js/contract_tests.rs).
const EV = {
  CONNECTED: 0x1001, DISCONNECTED: 0x1002, CONNECTING: 0x1003, STOPPED: 0x1004, MESSAGE: 0x1005,
  PUBLISHED: 0x1006, SUBSCRIBED: 0x1008, UNSUBSCRIBED: 0x1009, RESPONSE: 0x100a, AUTH: 0x100b,
  REAUTHENTICATED: 0x100c, PERSISTENCE: 0x100d, PACKET_SENT: 0x100e, PACKET_RECEIVED: 0x100f, ERR: 0x1020, ERR_KIND: 0x1021, ERR_MESSAGE: 0x1022,
  STR: 0x1030, SUB_ID: 0x1031, CODE: 0x1032, BYTES: 0x1033, END: 0x10ff,
};

const POLICIES = { 'reject-new': 0, 'drop-oldest': 1, 'latest-per-topic': 2 };

/**
 * An MQTT error: `code` is the MQTT return code (3.1.1) or reason code (5.0) when there is one,
 * as MQTT.js has it, else the kind; `kind` is always a stable name (CONNECTION_REFUSED,
 * KEEPALIVE_TIMEOUT, OUTBOX_FULL, ...).
 */
export class MqttError extends Error {
  constructor(kind, message, reasonCode) {
    super(message);
    this.name = 'MqttError';
    this.kind = kind;
    if (reasonCode !== undefined && reasonCode !== 0xffff) this.reasonCode = reasonCode;
    this.code = this.reasonCode ?? kind;
  }
}

// SUBACK reason codes of a refused filter (MQTT 5 3.9.3; 3.1.1 has 0x80 only).
const REFUSALS = {
  0x80: 'unspecified error', 0x83: 'implementation specific error', 0x87: 'not authorized',
  0x8f: 'topic filter invalid', 0x91: 'packet identifier in use', 0x97: 'quota exceeded',
  0x9e: 'shared subscriptions not supported', 0xa1: 'subscription identifiers not supported',
  0xa2: 'wildcard subscriptions not supported',
};

// MQTT 3.1.1 CONNACK return codes for the reason codes they map to (MQTT.js reports these).
const V3_RETURN = { 0x84: 1, 0x85: 2, 0x88: 3, 0x86: 4, 0x87: 5 };

/**
 * Node's EventEmitter interface (which MQTT.js's client has): on / addListener, prepend,
 * once, off / removeListener (the most recently added instance), removeAllListeners,
 * listeners, rawListeners, listenerCount, eventNames, set / getMaxListeners, emit. Not
 * 'newListener' / 'removeListener' events, and no warning past the maximum (it is kept).
 */
class Emitter {
  constructor() {
    this._events = new Map();
    this._maxListeners = 10;
  }

  prependListener(name, fn) {
    const list = this._events.get(name);
    if (list) list.unshift(fn);
    else this._events.set(name, [fn]);
    this._added(name);
    return this;
  }

  /** A listener for `name` was added (the client turns on what only listeners need). */
  _added(name) {}

  prependOnceListener(name, fn) {
    return this.prependListener(name, this._onceWrapper(name, fn));
  }

  listeners(name) {
    return (this._events.get(name) ?? []).map((f) => f.listener ?? f);
  }

  rawListeners(name) {
    return (this._events.get(name) ?? []).slice();
  }

  eventNames() {
    return [...this._events.keys()];
  }

  setMaxListeners(n) {
    this._maxListeners = n;
    return this;
  }

  getMaxListeners() {
    return this._maxListeners;
  }

  on(name, fn) {
    const list = this._events.get(name);
    if (list) list.push(fn);
    else this._events.set(name, [fn]);
    this._added(name);
    return this;
  }

  addListener(name, fn) {
    return this.on(name, fn);
  }

  once(name, fn) {
    return this.on(name, this._onceWrapper(name, fn));
  }

  _onceWrapper(name, fn) {
    const wrapper = (...args) => {
      this.off(name, wrapper);
      fn.apply(this, args);
    };
    wrapper.listener = fn;
    return wrapper;
  }

  off(name, fn) {
    const list = this._events.get(name);
    if (!list) return this;
    let i = list.length - 1;
    while (i >= 0 && list[i] !== fn && list[i].listener !== fn) i--;
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this._events.delete(name);
    return this;
  }

  removeListener(name, fn) {
    return this.off(name, fn);
  }

  removeAllListeners(name) {
    if (name === undefined) this._events.clear();
    else this._events.delete(name);
    return this;
  }

  listenerCount(name) {
    return this._events.get(name)?.length ?? 0;
  }

  /** `emit` with three arguments and no allocation for one listener (the per-message path). */
  _emit3(name, a, b, c) {
    const list = this._events.get(name);
    if (list === undefined) return false;
    if (list.length !== 1) return this.emit(name, a, b, c);
    try {
      list[0].call(this, a, b, c);
    } catch (e) {
      reportUnhandled(e);
    }
    return true;
  }

  emit(name, ...args) {
    const list = this._events.get(name);
    if (!list) {
      // As Node's EventEmitter: an 'error' nobody listens to is not swallowed.
      if (name === 'error' && args[0] instanceof Error) reportUnhandled(args[0]);
      return false;
    }
    for (const fn of list.slice()) {
      try {
        fn.apply(this, args);
      } catch (e) {
        reportUnhandled(e);
      }
    }
    return true;
  }
}

function reportUnhandled(e) {
  // An exception in an application handler must not break the client's dispatch loop.
  setTimeout(() => {
    throw e;
  });
}

function randomId() {
  return 'wasmqtt_' + Math.random().toString(16).slice(2, 10);
}

function toPayload(message) {
  if (message === undefined || message === null) return new Uint8Array(0);
  if (typeof message === 'string' || message instanceof Uint8Array) return message;
  if (message instanceof ArrayBuffer) return new Uint8Array(message);
  if (ArrayBuffer.isView(message)) return new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
  return String(message);
}

const SECURE = { mqtt: 'mqtts', tcp: 'mqtts', ws: 'wss' };
const BROWSER_SCHEME = { mqtt: 'ws', tcp: 'ws', mqtts: 'wss', ssl: 'wss', tls: 'wss' };
const NODE_SCHEMES = new Set(['ws', 'wss', 'mqtt', 'mqtts', 'tcp', 'ssl', 'tls']);

/**
 * The broker URLs to try, from the URL and the options as MQTT.js reads them (options override
 * what the URL says: `protocol`, `host` / `hostname`, `port`, `path`; `servers` add URLs), and
 * what the first URL carries besides: credentials (user info) and a `clientId` query
 * parameter. Where the page's WebSocket is the only transport, mqtt:// and mqtts:// become
 * ws:// and wss:// (as in MQTT.js).
 */
function resolveUrls(url, o) {
  const node = sockets() !== null;
  const out = { urls: [], username: undefined, password: undefined, clientId: undefined };
  const make = (scheme, host, port, path) => {
    scheme = scheme.toLowerCase();
    if (o.cert && o.key && !['mqtts', 'wss', 'ssl', 'tls'].includes(scheme)) scheme = SECURE[scheme] ?? scheme;
    if (!node) scheme = BROWSER_SCHEME[scheme] ?? scheme;
    const ws = scheme === 'ws' || scheme === 'wss';
    if (node ? !NODE_SCHEMES.has(scheme) : !ws) {
      throw new TypeError(`cannot connect with ${JSON.stringify(scheme + '://')}: use ${node ? 'ws://, wss://, mqtt:// or mqtts://' : 'ws:// or wss:// (a browser connects over WebSocket; mqtt:// means ws:// here)'}`);
    }
    if (!host) throw new TypeError('a broker host is required');
    const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    return `${scheme}://${h}${port ? ':' + port : ''}${ws ? path || '/' : ''}`;
  };
  if (typeof url === 'string' && url) {
    let u;
    try {
      u = new URL(url);
    } catch {
      throw new TypeError(`not a broker URL: ${JSON.stringify(url)}`);
    }
    if (u.username) out.username = decodeURIComponent(u.username);
    if (u.password) out.password = decodeURIComponent(u.password);
    out.clientId = u.searchParams.get('clientId') ?? undefined;
    const scheme = (o.protocol ?? u.protocol.replace(/:$/, '')).replace(/:$/, '');
    const host = o.hostname ?? o.host ?? u.hostname;
    const port = o.port ?? u.port;
    const path = o.path ?? (u.pathname + u.search);
    out.urls.push(make(scheme, host, port, path));
  }
  for (const s of o.servers ?? []) {
    out.urls.push(make(s.protocol ?? o.protocol ?? 'ws', s.host, s.port, o.path));
  }
  if (out.urls.length === 0 && (o.host || o.hostname)) {
    out.urls.push(make(o.protocol ?? (node ? 'mqtt' : 'ws'), o.hostname ?? o.host, o.port, o.path));
  }
  if (out.urls.length === 0) throw new TypeError('a broker URL (or the host option) is required');
  return out;
}

/** Writes the options tape (a CONNECT plus configuration keys) into `raw`; returns its length. */
function writeOptions(raw, urls, o) {
  const connect = {
    cmd: 'connect',
    protocolVersion: o.protocolVersion,
    clientId: o.clientId,
    clean: o.clean,
    keepalive: o.keepalive,
    username: o.username,
    password: o.password,
    will: o.will,
    properties: o.properties,
  };
  writePacketTape(connect, raw, true);
  try {
    return writeExtra(urls, o);
  } finally {
    tapeWriter.end();
  }
}

/** The configuration keys after the CONNECT of the options tape. */
function writeExtra(urls, o) {
  const tw = tapeWriter;
  const ms = (key, v, what) => {
    if (v !== undefined && v !== null) tw.int(key, Math.max(0, Math.round(v)), what);
  };
  for (const u of urls) tw.bytes(CFG.URL, u, 'url');
  ms(CFG.CONNECT_TIMEOUT, o.connectTimeout, 'connectTimeout');
  ms(CFG.RECONNECT_INITIAL, o.reconnectPeriod, 'reconnectPeriod');
  const r = o.reconnect ?? {};
  ms(CFG.RECONNECT_MAX, r.maxDelay, 'reconnect.maxDelay');
  ms(CFG.STABLE_AFTER, r.stableAfter, 'reconnect.stableAfter');
  ms(CFG.BUSY_DELAY, r.busyDelay, 'reconnect.busyDelay');
  ms(CFG.TAKEOVER_WINDOW, r.takeoverWindow, 'reconnect.takeoverWindow');
  ms(CFG.TAKEOVER_THRESHOLD, r.takeoverThreshold, 'reconnect.takeoverThreshold');
  ms(CFG.MAX_REDIRECTS, r.maxRedirects, 'reconnect.maxRedirects');
  // A credentials provider is told the URL of every attempt, redirected ones included, so
  // what it returns may go there; otherwise only hosts the application named get them.
  if (r.redirectCredentials !== undefined || typeof o.credentials === 'function') {
    tw.int(CFG.REDIRECT_CREDENTIALS, !!(r.redirectCredentials ?? true), 'reconnect.redirectCredentials');
  }
  ms(CFG.PING_TIMEOUT, o.pingTimeout, 'pingTimeout');
  const ob = o.outbox ?? {};
  ms(CFG.OUTBOX_MAX_MESSAGES, ob.maxMessages, 'outbox.maxMessages');
  ms(CFG.OUTBOX_MAX_BYTES, ob.maxBytes, 'outbox.maxBytes');
  if (ob.policy !== undefined) {
    if (!(ob.policy in POLICIES)) throw new TypeError(`outbox.policy must be one of ${Object.keys(POLICIES).join(', ')}`);
    tw.int(CFG.OUTBOX_POLICY, POLICIES[ob.policy], 'outbox.policy');
  }
  if (o.queueQoSZero !== undefined) tw.int(CFG.QUEUE_QOS0, !!o.queueQoSZero, 'queueQoSZero');
  ms(CFG.MAX_INFLIGHT, o.maxInflight, 'maxInflight');
  if (o.persistence !== undefined) {
    if (o.persistence !== 'indexeddb' && o.persistence !== 'volatile') {
      throw new TypeError("persistence must be 'indexeddb' or 'volatile'");
    }
    tw.int(CFG.PERSISTENCE, o.persistence === 'indexeddb' ? 1 : 0, 'persistence');
  }
  if (o.persistenceKey !== undefined) tw.bytes(CFG.PERSISTENCE_KEY, String(o.persistenceKey), 'persistenceKey');
  if (o.workerTimer !== undefined) tw.int(CFG.WORKER_TIMER, !!o.workerTimer, 'workerTimer');
  ms(CFG.HIGH_WATER, o.highWaterMark, 'highWaterMark');
  ms(CFG.DISCONNECT_TIMEOUT, o.disconnectTimeout, 'disconnectTimeout');
  const order = idOrder(o.messageIdProvider);
  if (order === 'lowest') tw.int(CFG.LOWEST_FREE_IDS, 1, 'messageIdProvider');
  if (order === null && !warned.has('messageIdProvider')) {
    warned.add('messageIdProvider');
    console.warn('wasmqtt: a messageIdProvider of your own is not consulted: the client core gives packet identifiers, never one in use; UniqueMessageIdProvider (lowest free first) and DefaultMessageIdProvider (in sequence) choose the order');
  }
  tw.int(CFG.SEED_LO, (Math.random() * 0x100000000) >>> 0, 'seed');
  tw.int(CFG.SEED_HI, (Math.random() * 0x100000000) >>> 0, 'seed');
  return tw.pos;
}

// Options wasmqtt reads (MQTT.js's with meaning here, and its own; see wasmqtt.d.ts).
const OPTIONS = new Set([
  'clientId', 'protocolVersion', 'protocolId', 'clean', 'keepalive', 'username', 'password', 'will',
  'properties', 'reconnectPeriod', 'connectTimeout', 'queueQoSZero', 'manualConnect', 'servers',
  'protocol', 'host', 'hostname', 'port', 'path', 'href', 'url', 'query', 'resubscribe',
  'transformWsUrl', 'createWebsocket', 'wsOptions', 'handleAuth', 'ca', 'cert', 'key', 'pfx',
  'passphrase', 'rejectUnauthorized', 'servername', 'ciphers', 'ALPNProtocols', 'checkServerIdentity',
  'minVersion', 'maxVersion', 'credentials', 'reconnect', 'outbox', 'maxInflight', 'persistence',
  'persistenceKey', 'pingTimeout', 'workerTimer', 'highWaterMark', 'disconnectTimeout',
  'incomingStore', 'outgoingStore', 'messageIdProvider',
]);
// MQTT.js options that have no effect here, and why.
const WITHOUT_EFFECT = {
  autoUseTopicAlias: 'topic aliases are used automatically within the server\'s Topic Alias Maximum',
  autoAssignTopicAlias: 'topic aliases are used automatically within the server\'s Topic Alias Maximum',
  reschedulePings: 'keep-alive is scheduled by the client core',
  timerVariant: 'deadlines run in a Worker in browsers (`workerTimer`)',
  log: 'wasmqtt does not log',
  customHandleAcks: 'use handleMessage',
  reconnectOnConnackError: 'refusals are reconnected to or not by their reason code',
  subscribeBatchSize: 'one SUBSCRIBE carries the filters of one call',
  writeCache: 'packets of one task leave in one write',
  browserBufferSize: 'back-pressure follows `highWaterMark`',
  browserBufferTimeout: 'back-pressure follows `highWaterMark`',
  objectMode: 'not needed',
  encoding: 'payloads are bytes',
  forceNativeWebSocket: 'Node uses the ws package when installed, else its own WebSocket',
  socksProxy: 'not supported',
  socksTimeout: 'not supported',
  unixSocket: 'not supported',
  keyPath: 'pass `key` itself', certPath: 'pass `cert` itself', caPaths: 'pass `ca` itself',
  auth: 'give `username` and `password`, or put them in the URL',
  authPacket: 'give `properties.authenticationMethod` / `authenticationData`',
  defaultProtocol: 'set by MQTT.js itself',
};
const warned = new Set();

/** Warns once per option name about options wasmqtt does not read, never dropping them silently. */
function checkOptions(options) {
  for (const name of Object.keys(options ?? {})) {
    if (OPTIONS.has(name) || warned.has(name) || options[name] === undefined) continue;
    warned.add(name);
    const why = WITHOUT_EFFECT[name];
    console.warn(why
      ? `wasmqtt: the MQTT.js option "${name}" has no effect here: ${why}`
      : `wasmqtt: unknown option "${name}" (ignored): check its spelling; the options are listed in wasmqtt.d.ts`);
  }
}

/**
 * The packet a completed publish reports, as MQTT.js's: none at QoS 0, the PUBLISH (its payload
 * as given) at QoS 1, the PUBREL at QoS 2.
 */
function publishOutcome(sent, messageId) {
  if (!sent || sent.qos === 0) return undefined;
  const id = messageId || undefined;
  if (sent.qos === 2) return { cmd: 'pubrel', qos: 2, messageId: id };
  const out = { cmd: 'publish', topic: sent.topic, payload: sent.payload, qos: 1, retain: sent.retain, messageId: id, dup: false };
  if (sent.properties) out.properties = sent.properties;
  return out;
}

/** MQTT.js's default message hook: nothing to wait for. */
function defaultHandleMessage(packet, callback) {
  callback();
}

/** Payloads from this size on are checked against the outbox's bound before they are copied. */
const LARGE = 64 * 1024;

/** What a waiting publish counts against the waiting bound: its topic and payload. */
function waitingSize(packet) {
  const p = packet.payload;
  return (packet.topic?.length ?? 0) + (typeof p === 'string' ? p.length : p?.length ?? 0);
}

/** The MQTT.js `MqttClient`, backed by wasmqtt. Create it with `connect()`. */
export class MqttClient extends Emitter {
  constructor(url, options = {}) {
    super();
    if (typeof url === 'object' && url !== null) {
      options = url;
      url = options.href ?? options.url;
    }
    const o = {
      protocolVersion: 4,
      keepalive: 60,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 30 * 1000,
      ...options,
    };
    checkOptions(options);
    if (o.resubscribe === false) {
      throw new TypeError('resubscribe: false is not supported: wasmqtt always restores subscriptions a new session lacks');
    }
    const target = resolveUrls(url, o);
    o.username ??= target.username;
    o.password ??= target.password;
    o.clientId ??= target.clientId ?? randomId();
    // Without IndexedDB (Node, some Workers) sessions live in memory, as MQTT.js's default stores.
    if (o.persistence === undefined && typeof indexedDB === 'undefined') o.persistence = 'volatile';
    this.options = o;
    this._setStores(o);
    this.connected = false;
    this.reconnecting = false;
    this.disconnecting = false;
    this.disconnected = false;
    this.lastError = null;
    this._ops = new Map();
    // Topic strings by slot, in step with the Rust client's topic cache.
    this._topics = new Array(64);
    this._waiting = [];
    this._waitingHead = 0;
    // Publishers waiting for room in a full outbox are bounded in bytes like the outbox itself
    // (they are not accepted yet: their callbacks have not run, and a reload forgets them).
    this._waitingMaxBytes = o.outbox?.maxBytes ?? 16 * 1024 * 1024;
    this._waitingBytes = 0;
    this._ended = false;
    this._everConnecting = false;
    this._onStop = null;
    this._handleMessage = undefined;
    this._manualAcks = false;
    this._packetEvents = this._packetEvents ?? false;
    this._endCallbacks = [];
    // The Rust side keeps the functions it is given for as long as the client exists: through
    // `holder` they reach the MqttClient strongly only while the client runs, weakly before it
    // started and once it ended, so a client the application dropped can be collected (no
    // cycle through wasm). They are made outside this constructor (`toClient`): a closure made
    // here would keep the constructor's whole scope, `this` included.
    const holder = { strong: null, weak: new WeakRef(this) };
    this._holder = holder;
    // Calls made before the wasm module is loaded wait here (the first client loads it).
    this._raw = null;
    this._early = [];
    this._loadError = null;
    if (isLoaded()) {
      this._early = null;
      this._setUp(target.urls);
    } else {
      if (!o.manualConnect) holder.strong = this; // loading is part of connecting
      load().then(
        () => this._setUp(target.urls),
        (e) => this._loadFailed(e),
      );
    }
  }

  _setUp(urls) {
    const o = this.options;
    const raw = new RawClient(...toClient(this._holder, o));
    this._raw = raw;
    const len = writeOptions(raw, urls, o);
    if (raw.configure(len) < 0) {
      const err = this._error();
      this._raw = null;
      raw.free();
      if (this._early === null) throw err; // set up in the constructor: it throws, as before
      return this._loadFailed(err);
    }
    this._syncAcks();
    if (this.outgoingStore) raw.set_stores(toStores(this._holder, this.incomingStore, this.outgoingStore));
    if (!o.manualConnect && !this._ended) {
      this._holder.strong = this;
      raw.start();
    }
    const early = this._early;
    this._early = null;
    for (const e of early ?? []) e.call();
  }

  /** The wasm module could not be loaded (or the options were refused): said once, and every call fails. */
  _loadFailed(e) {
    this._loadError = e instanceof MqttError ? e : new MqttError('LOAD_FAILED', `wasmqtt could not load its wasm module: ${e?.message ?? e}. Check that wasmqtt_core_bg.wasm is served beside wasmqtt.js (see README: bundlers), or call init() with where it is.`);
    this._holder.strong = null;
    this.lastError = this._loadError;
    this.emit('error', this._loadError);
    this._failEarly(this._loadError);
    this._early = null;
  }

  /** Fails the operations waiting for the module (the other calls are dropped). */
  _failEarly(err) {
    const early = this._early ?? [];
    this._early = [];
    for (const e of early) if (e.operation) this._fail(e.callback, err);
  }

  /**
   * Before the wasm module is loaded a call waits for it (it runs as made, in order, once the
   * module is in); after a failed load an operation (`callback`: its callback, possibly
   * undefined) fails with why. True when the caller must return.
   */
  _notReady(call, callback = null) {
    if (this._raw !== null) return false;
    const operation = callback !== null;
    if (this._loadError !== null) {
      if (operation) this._fail(callback, this._loadError);
    } else {
      this._early.push({ call, callback, operation });
    }
    return true;
  }

  /** Starts connecting (with `manualConnect`), or again after `end()` or a stop. */
  connect() {
    if (this._notReady(() => this.connect())) return this;
    this._holder.strong = this;
    this._ended = false;
    this.disconnected = false;
    this._raw.start();
    return this;
  }

  _error() {
    const raw = this._raw;
    return new MqttError(raw.error_kind(), raw.error_message(), raw.error_reason());
  }

  _readError(i) {
    const code = word(i + 1);
    const kind = tapeString(i + 3);
    const message = tapeString(i + 6);
    let reasonCode = code;
    const err = new MqttError(kind, message, reasonCode);
    // MQTT.js reports 3.1.1 refusals by return code.
    if (kind === 'CONNECTION_REFUSED' && this.options.protocolVersion !== 5 && V3_RETURN[code]) {
      err.code = V3_RETURN[code];
    }
    return [err, i + 9];
  }

  /** Reads an event tape and emits; called by the Rust client once per batch. */
  _dispatch(at, words) {
    views();
    let i = at >>> 2;
    const end = i + words;
    let thrown = null;
    while (i < end) {
      // A handler may have grown wasm memory (a large publish): views are renewed for every
      // event, or the rest of the batch would be read from a detached buffer.
      views();
      const k = word(i);
      const a = word(i + 1);
      // Operation ids cross whole: low and high words (see EventTape::op).
      const id = a + word(i + 2) * 0x100000000;
      i += 3;
      // Every case advances `i` past its event before calling out, so a handler that throws
      // loses nothing: the batch goes on, and the first error is rethrown after it.
      try {
      switch (k) {
        case EV.MESSAGE: {
          const [packet, next] = readPacketAt(i, EV.END, this._topics);
          i = next;
          while (i < end && word(i) === EV.SUB_ID) i += 3;
          this._emit3('message', packet.topic, packet.payload ?? bytesAlloc(0), packet);
          if (this._manualAcks) this._handOver(packet);
          break;
        }
        case EV.PACKET_SENT:
        case EV.PACKET_RECEIVED: {
          const [packet, next] = readPacketAt(i, EV.END, this._topics);
          i = next;
          delete packet.length;
          this.emit(k === EV.PACKET_SENT ? 'packetsend' : 'packetreceive', packet);
          break;
        }
        case EV.PUBLISHED: {
          let err = null;
          let code = 0;
          if (word(i) === EV.ERR) [err, i] = this._readError(i);
          else {
            code = word(i + 1);
            i += 3;
          }
          // What MQTT.js completes a publish with: no packet at QoS 0, the PUBLISH at QoS 1 and
          // the PUBREL at QoS 2, with the packet id of the acknowledgement that completed it
          // (the word holds the reason code in its low byte, the packet id above).
          this._complete(id, err, err ? undefined : publishOutcome(this._ops.get(id)?.packet, code >>> 8));
          if (this.disconnecting) this._checkOutgoingEmpty();
          break;
        }
        case EV.SUBSCRIBED: {
          let err;
          let codes;
          [err, codes, i] = this._readCodes(i, end);
          const op = this._ops.get(id);
          const granted = op?.topics ? op.topics.map((topic, j) => ({ topic, qos: codes[j] ?? 0x80 })) : codes;
          // As MQTT.js: a refused filter fails the subscribe (the SUBACK is on the error).
          const refused = err ? [] : granted.filter((g) => g.qos >= 0x80);
          if (refused.length > 0) {
            const code = refused[0].qos;
            err = new MqttError('SUBSCRIBE_REFUSED', `Subscribe error: the server refused ${refused.map((g) => JSON.stringify(g.topic)).join(', ')} (reason code 0x${code.toString(16)}${REFUSALS[code] ? ': ' + REFUSALS[code] : ''})`, code);
            err.packet = { cmd: 'suback', granted: codes };
            err.granted = granted;
          }
          this._complete(id, err, granted);
          break;
        }
        case EV.UNSUBSCRIBED: {
          let err;
          let codes;
          [err, codes, i] = this._readCodes(i, end);
          this._complete(id, err, err ? undefined : { cmd: 'unsuback', reasonCode: codes[0] ?? 0, granted: codes });
          break;
        }
        case EV.RESPONSE: {
          if (word(i) === EV.ERR) {
            let err;
            [err, i] = this._readError(i);
            this._complete(id, err);
          } else {
            const [packet, next] = readPacketAt(i, EV.END, this._topics);
            i = next;
            while (i < end && word(i) === EV.SUB_ID) i += 3;
            this._complete(id, null, packet);
          }
          break;
        }
        case EV.CONNECTED: {
          const clientId = tapeString(i);
          const [connack, next] = readPacketAt(i + 3, EV.END);
          i = next;
          if (this.options.protocolVersion === 5) connack.reasonCode = 0;
          else connack.returnCode = 0;
          connack.sessionPresent = a === 1;
          delete connack.length;
          this.options.clientId = clientId;
          this.connected = true;
          this.reconnecting = false;
          this.disconnected = false;
          this.lastError = null;
          this.emit('connect', connack);
          break;
        }
        case EV.CONNECTING: {
          const url = tapeString(i);
          i += 3;
          if (this._everConnecting) {
            this.reconnecting = true;
            this.emit('reconnect', url);
          }
          this._everConnecting = true;
          break;
        }
        case EV.DISCONNECTED: {
          let err = null;
          let serverReason;
          if (i < end && word(i) === EV.ERR) [err, i] = this._readError(i);
          if (i < end && word(i) === EV.CODE) {
            serverReason = word(i + 1);
            i += 3;
          }
          const wasConnected = this.connected;
          this.connected = false;
          this.lastError = err;
          if (serverReason !== undefined) {
            this.emit('disconnect', { cmd: 'disconnect', reasonCode: serverReason, properties: err ? { reasonString: err.message } : undefined });
          }
          if (err && ['CONNECTION_REFUSED', 'MALFORMED_PACKET', 'PROTOCOL_VIOLATION'].includes(err.kind)) {
            this.emit('error', err);
          }
          if (wasConnected || err) this.emit('close', err);
          if (a !== 0xffffffff) {
            this.reconnecting = true;
            this.emit('offline', err);
          } else if (!err || this._ended) {
            // end() completes also when the link broke during its graceful drain.
            this._finishEnd();
          } else {
            this.reconnecting = false;
          }
          break;
        }
        case EV.STOPPED: {
          let err;
          [err, i] = this._readError(i);
          this.reconnecting = false;
          this.lastError = err;
          // The client gave up: an 'error' when the application must act (another client has
          // its id, its options are wrong). A refusal was reported already; a lost connection
          // with reconnection turned off is reported by 'close'.
          if (['SESSION_TAKEN_OVER', 'SUSPECTED_TAKEOVER', 'CONFIG', 'ENCODE'].includes(err.kind)) this.emit('error', err);
          for (const [id] of this._ops) {
            const op = this._ops.get(id);
            if (op?.failOnStop) this._complete(id, err);
          }
          this._onStop?.(err);
          break;
        }
        case EV.AUTH: {
          const method = tapeString(i);
          i += 3;
          let data;
          if (i < end && word(i) === EV.BYTES) {
            data = tapeBytes(i);
            i += 3;
          }
          if (this.options.handleAuth) {
            Promise.resolve()
              .then(() => this.options.handleAuth({ method, data }))
              .then((reply) => this._raw.auth(toBytes(reply), false))
              .catch((e) => this.emit('error', e));
          } else {
            this.emit('auth', { method, data });
          }
          break;
        }
        case EV.REAUTHENTICATED:
          this.emit('reauthenticated');
          break;
        case EV.PERSISTENCE: {
          const message = tapeString(i);
          i += 3;
          this.emit('error', new MqttError('PERSISTENCE', message));
          break;
        }
        default:
          // An unknown key means the tape is out of step: stop rather than misread.
          i = end;
          this.emit('error', new MqttError('INTERNAL', `unexpected event tape key ${k}`));
      }
      } catch (e) {
        thrown ??= e;
      }
    }
    try {
      this._drainWaiting();
    } catch (e) {
      // A waiting publish that failed with no callback emits 'error', which throws without
      // a listener: reported like a handler's error.
      thrown ??= e;
    }
    // As an event handler's exception in a browser: reported, never swallowed, and the batch
    // (and the connection) carry on.
    if (thrown !== null) queueMicrotask(() => { throw thrown; });
  }

  /** An optional error, then reason codes, at word `i`; returns [error or null, codes, next word]. */
  _readCodes(i, end) {
    let err = null;
    if (word(i) === EV.ERR) [err, i] = this._readError(i);
    const codes = [];
    while (i < end && word(i) === EV.CODE) {
      codes.push(word(i + 1));
      i += 3;
    }
    return [err, codes, i];
  }

  _complete(id, err, value) {
    const op = this._ops.get(id);
    if (!op) return;
    this._ops.delete(id);
    if (op.callback) {
      try {
        op.callback(err ?? null, value);
      } catch (e) {
        reportUnhandled(e);
      }
    }
  }

  /**
   * Starts an operation (`start` returns its id, or -1 with the error in the raw client); its
   * outcome reaches `callback` later. A failure to start goes to `callback` too, or to 'error'.
   */
  _operation(callback, start, extra) {
    let id;
    try {
      id = start();
    } catch (e) {
      this._fail(callback, e);
      return;
    }
    if (id < 0) this._fail(callback, this._error());
    else this._track(id, callback, extra);
  }

  _fail(callback, err) {
    if (callback) queueMicrotask(() => callback(err));
    else this.emit('error', err);
  }

  _track(id, callback, extra) {
    this._ops.set(id, extra === undefined ? { callback } : { callback, ...extra });
  }

  // ---------------------------------------------------------------- publish

  /**
   * Publishes `message` to `topic`. The callback runs when the message is written (QoS 0) or
   * acknowledged (QoS 1, 2), or with an MqttError. While the outbox is full the call waits
   * (back-pressure) instead of failing.
   */
  publish(topic, message, opts, callback) {
    if (typeof opts === 'function') {
      callback = opts;
      opts = undefined;
    }
    if (this._notReady(() => this.publish(topic, message, opts, callback), callback)) return this;
    const o = opts ?? {};
    const packet = {
      cmd: 'publish',
      topic,
      payload: toPayload(message),
      qos: o.qos ?? 0,
      retain: !!o.retain,
      dup: false,
      properties: o.properties,
    };
    // A large payload is measured before it is copied into wasm memory (which never shrinks):
    // one the outbox can never hold is refused from its size (for a string, its length in
    // UTF-16 units, which its UTF-8 bytes never undercut).
    const size = waitingSize(packet);
    if (size > LARGE && this._raw.refuse_size(size) < 0) {
      this._fail(callback, this._error());
      return this;
    }
    if (this._waitingHead < this._waiting.length || !this._publish(packet, callback)) {
      this._wait(packet, callback);
    }
    return this;
  }

  _publish(packet, callback) {
    let id;
    try {
      id = this._raw.publish(writePacketTape(packet, this._raw));
    } catch (e) {
      this._fail(callback, e);
      return true;
    }
    if (id >= 0) {
      // Nothing to call back: nothing to remember (the outcome of a callback-less publish is
      // not reported, as in MQTT.js).
      if (callback) this._track(id, callback, { packet });
      return true;
    }
    // Full (-2): the caller keeps it waiting for room.
    if (id === -2 && !this._ended) return false;
    const err = this._error();
    this._fail(callback, err);
    return true;
  }

  _drainWaiting() {
    // A queue with a moving head: shift() on a long array is linear, and a burst of 100,000
    // publishes can wait here.
    const w = this._waiting;
    while (this._waitingHead < w.length) {
      const { packet, callback, size } = w[this._waitingHead];
      if (!this._publish(packet, callback)) break; // still full: it stays at the head
      this._waitingBytes -= size;
      w[this._waitingHead++] = undefined;
    }
    if (this._waitingHead === w.length) {
      w.length = 0;
      this._waitingHead = 0;
    } else if (this._waitingHead > 1024 && this._waitingHead * 2 > w.length) {
      w.splice(0, this._waitingHead);
      this._waitingHead = 0;
    }
  }

  _wait(packet, callback) {
    const size = waitingSize(packet);
    if (this._waitingBytes + size > this._waitingMaxBytes) {
      this._fail(callback, new MqttError('OUTBOX_FULL', `the outbox is full and publishes of ${this._waitingBytes} bytes already wait for room: publish more slowly, or raise outbox.maxBytes`));
      return;
    }
    this._waitingBytes += size;
    this._waiting.push({ packet, callback, size });
  }

  publishAsync(topic, message, opts) {
    return new Promise((resolve, reject) => {
      this.publish(topic, message, opts, (err, packet) => (err ? reject(err) : resolve((opts?.qos ?? 0) > 0 ? packet : undefined)));
    });
  }

  // ---------------------------------------------------------------- subscribe

  /**
   * Subscribes. `topic`: a filter, an array, or `{ filter: { qos, nl, rap, rh } }`. The callback
   * gets `(err, granted)` with `granted = [{ topic, qos }]` (qos 128 or a reason code >= 0x80
   * for a refused filter).
   */
  subscribe(topic, opts, callback) {
    if (typeof opts === 'function') {
      callback = opts;
      opts = undefined;
    }
    if (this._notReady(() => this.subscribe(topic, opts, callback), callback)) return this;
    const o = opts ?? {};
    const base = { qos: o.qos ?? 0, nl: o.nl, rap: o.rap, rh: o.rh };
    let subscriptions;
    if (typeof topic === 'string') subscriptions = [{ topic, ...base }];
    else if (Array.isArray(topic)) subscriptions = topic.map((t) => ({ topic: t, ...base }));
    else if (topic && typeof topic === 'object') {
      subscriptions = Object.entries(topic).map(([t, so]) => ({ topic: t, ...base, ...(typeof so === 'number' ? { qos: so } : so) }));
    } else {
      throw new TypeError('subscribe: topic must be a string, an array or an object');
    }
    const packet = { cmd: 'subscribe', messageId: 1, subscriptions, properties: o.properties };
    this._operation(callback, () => this._raw.subscribe(writePacketTape(packet, this._raw)), {
      topics: subscriptions.map((s) => s.topic),
    });
    return this;
  }

  subscribeAsync(topic, opts) {
    return new Promise((resolve, reject) => {
      this.subscribe(topic, opts, (err, granted) => (err ? reject(err) : resolve(granted)));
    });
  }

  unsubscribe(topic, opts, callback) {
    if (typeof opts === 'function') {
      callback = opts;
      opts = undefined;
    }
    if (this._notReady(() => this.unsubscribe(topic, opts, callback), callback)) return this;
    const unsubscriptions = typeof topic === 'string' ? [topic] : topic;
    const packet = { cmd: 'unsubscribe', messageId: 1, unsubscriptions, properties: opts?.properties };
    this._operation(callback, () => this._raw.unsubscribe(writePacketTape(packet, this._raw)));
    return this;
  }

  unsubscribeAsync(topic, opts) {
    return new Promise((resolve, reject) => {
      this.unsubscribe(topic, opts, (err, packet) => (err ? reject(err) : resolve(packet)));
    });
  }

  /**
   * MQTT 5 request/response (wasmqtt): publishes with a response topic and fresh correlation
   * data; resolves with the response packet, or rejects (REQUEST_TIMEOUT after `timeout` ms).
   */
  requestAsync(topic, message, opts = {}) {
    if (this._raw === null) {
      return new Promise((resolve, reject) => {
        this._notReady(() => this.requestAsync(topic, message, opts).then(resolve, reject), reject);
      });
    }
    return new Promise((resolve, reject) => {
      const packet = { cmd: 'publish', topic, payload: toPayload(message), qos: 0, properties: opts.properties };
      let id;
      try {
        id = this._raw.request(writePacketTape(packet, this._raw), opts.timeout ?? 30000, opts.qos ?? 1);
      } catch (e) {
        reject(e);
        return;
      }
      if (id < 0) reject(this._error());
      else this._track(id, (err, response) => (err ? reject(err) : resolve(response)));
    });
  }

  // ---------------------------------------------------------------- end

  /**
   * Disconnects cleanly: waits for the outbox and in-flight messages (unless `force`), sends
   * DISCONNECT (so no will is published) and does not reconnect. `opts.reasonCode` 4 asks an
   * MQTT 5 server to publish the will anyway.
   */
  end(force, opts, callback) {
    if (typeof force === 'function') {
      callback = force;
      force = false;
      opts = undefined;
    } else if (typeof force === 'object' && force !== null) {
      // end(opts, callback), as MQTT.js accepts.
      callback = typeof opts === 'function' ? opts : callback;
      opts = force;
      force = false;
    } else if (typeof opts === 'function') {
      callback = opts;
      opts = undefined;
    }
    if (callback) this._endCallbacks.push(callback);
    if (this._ended) return this;
    this._ended = true;
    this.disconnecting = true;
    this._outgoingEmptied = false;
    if (this._raw === null) {
      // Not loaded yet (or never): nothing to close; what waited for the module is refused and
      // the client ends at once.
      this._failEarly(new MqttError('ENDED', 'the client was ended before it connected: call reconnect() first'));
      this._holder.strong = null;
      queueMicrotask(() => this._finishEnd());
      return this;
    }
    const state = this._raw.state();
    const sessionExpiry = opts?.properties?.sessionExpiryInterval;
    this._raw.end(!!force, opts?.reasonCode ?? 0, sessionExpiry ?? -1);
    if (state !== 'connected') {
      // Nothing to close cleanly: a connection in progress is dropped, a wait is cancelled.
      queueMicrotask(() => this._finishEnd());
    }
    return this;
  }

  /**
   * MQTT.js's 'outgoingEmpty': while a graceful end() waits, the last message it waited for
   * completed (nothing in flight, nothing queued); once per end().
   */
  _checkOutgoingEmpty() {
    const m = this._raw?.metrics();
    if (!m || this._outgoingEmptied || m[6] !== 0 || m[8] !== 0) return;
    this._outgoingEmptied = true;
    this.emit('outgoingEmpty');
  }

  _finishEnd() {
    if (!this._ended || this.disconnected) return;
    this._holder.strong = null;
    this.disconnecting = false;
    this.disconnected = true;
    this.reconnecting = false;
    this.connected = false;
    const waiting = this._waiting.splice(this._waitingHead);
    this._waiting.length = 0;
    this._waitingHead = 0;
    this._waitingBytes = 0;
    const err = new MqttError('CANCELLED', 'the client ended before the message could be sent');
    for (const w of waiting) if (w.callback) w.callback(err);
    this.emit('end');
    for (const cb of this._endCallbacks.splice(0)) cb();
  }

  endAsync(force, opts) {
    return new Promise((resolve) => this.end(force, opts, resolve));
  }

  /**
   * The stores the session is kept in (MQTT.js's `incomingStore` / `outgoingStore`), when the
   * options gave one: the other is then an in-memory Store.
   */
  _setStores(o) {
    const given = o.incomingStore != null || o.outgoingStore != null;
    this.incomingStore = given ? o.incomingStore ?? new Store() : undefined;
    this.outgoingStore = given ? o.outgoingStore ?? new Store() : undefined;
  }

  /**
   * Reconnects now (after `end()`, a stop, or to skip a backoff). `opts.incomingStore` /
   * `opts.outgoingStore` (MQTT.js): keep the session in these stores from now on; a client
   * that has a live session writes it into them, replacing what they held.
   */
  reconnect(opts) {
    if (this._notReady(() => this.reconnect(opts))) return this;
    if (opts && ('incomingStore' in opts || 'outgoingStore' in opts)) {
      this.options.incomingStore = opts.incomingStore;
      this.options.outgoingStore = opts.outgoingStore;
      this._setStores(this.options);
      this._raw.set_stores(this.outgoingStore ? toStores(this._holder, this.incomingStore, this.outgoingStore) : null);
    }
    this._holder.strong = this;
    if (this._ended) {
      this._ended = false;
      this.disconnected = false;
    }
    this._raw.reconnect();
    return this;
  }

  // ---------------------------------------------------------------- wasmqtt extras

  /** Answers an MQTT 5 'auth' challenge, or with `reauthenticate` starts a re-authentication. */
  authenticate(data, reauthenticate = false) {
    if (this._notReady(() => this.authenticate(data, reauthenticate))) return;
    if (this._raw.auth(toBytes(data), reauthenticate) < 0) throw this._error();
  }

  /** New credentials for the next connections (a client stopped on bad credentials restarts). */
  setCredentials(username, password) {
    if (this._notReady(() => this.setCredentials(username, password))) return;
    this._raw.set_credentials(username ?? undefined, toBytes(password));
  }

  /**
   * MQTT.js's message hook: called with every incoming PUBLISH after 'message'; a QoS 1 / 2
   * message is acknowledged when `callback` is called (so the broker's flow control paces
   * delivery to the application). Assign (or override) it to use it; the default calls back
   * at once, and then wasmqtt acknowledges without a round through JavaScript.
   */
  get handleMessage() {
    return this._handleMessage ?? defaultHandleMessage;
  }

  set handleMessage(fn) {
    this._handleMessage = fn;
    this._syncAcks();
  }

  _syncAcks() {
    this._manualAcks = this.handleMessage !== defaultHandleMessage;
    this._raw?.set_manual_acks(this._manualAcks);
    if (this._packetEvents) this._raw?.set_packet_events(true);
  }

  // Packets cross from wasm one by one only for those who listen: a 'packetsend' or
  // 'packetreceive' listener turns it on for the client's life.
  _added(name) {
    if ((name === 'packetsend' || name === 'packetreceive') && !this._packetEvents) {
      this._packetEvents = true;
      this._raw?.set_packet_events(true);
    }
  }

  _handOver(packet) {
    let called = false;
    const done = (err) => {
      if (called) return;
      called = true;
      // PUBACKs leave in the order the messages came: one never sent would hold back every
      // later one, so an error is reported and the message acknowledged all the same.
      if (err) this.emit('error', err);
      if (packet.qos > 0) this._raw?.release(packet.messageId, packet.qos);
    };
    try {
      this.handleMessage(packet, done);
    } catch (e) {
      done(e);
    }
  }

  /**
   * Gives up on the message in flight with this identifier (MQTT.js): its callback and promise
   * fail at once with 'Message removed' (code REMOVED), and it is not sent as a new message if
   * the session is lost. While the session lasts, MQTT still has it resent on a resumed session
   * [MQTT-4.4.0-1] and its identifier held until acknowledged, so it may still arrive (once at
   * most at QoS 2). Queued messages have no identifier yet. Returns the client.
   */
  removeOutgoingMessage(messageId) {
    if (Number.isInteger(messageId) && messageId > 0 && messageId < 65536) {
      this._raw?.remove_outgoing(messageId);
    }
    return this;
  }

  /**
   * The packet identifier given last, or null (MQTT.js). A message just published is given one
   * now if the in-flight window has room (as MQTT.js gives it in publish()); one that waits in
   * the outbox (offline, window full) has none yet: the identifier is then an earlier one.
   */
  getLastMessageId() {
    const id = this._raw?.last_message_id() ?? -1;
    return id < 0 ? null : id;
  }

  /** Checks the link now (sends a PINGREQ). */
  checkLiveness() {
    this._raw?.check_liveness();
  }

  /** The connection state: idle, connecting, connected, reconnecting, offline, closing, stopped. */
  get state() {
    if (this._raw === null) return this._loadError ? 'stopped' : this._holder.strong ? 'connecting' : 'idle';
    return this._raw.state();
  }

  /** Whether keep-alive deadlines run in a Worker, which hidden tabs do not throttle. */
  get unthrottledTimer() {
    return this._raw?.unthrottled_timer() ?? false;
  }

  /** Round trip, rates and queues, for health displays. */
  getMetrics() {
    const m = this._raw?.metrics() ?? [-1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1];
    const opt = (v) => (v < 0 ? null : v);
    return {
      rtt: opt(m[0]),
      rttSmoothed: opt(m[1]),
      messagesIn: m[2],
      messagesOut: m[3],
      bytesIn: m[4],
      bytesOut: m[5],
      inflightOut: m[6],
      inflightIn: m[7],
      outboxMessages: m[8],
      outboxBytes: m[9],
      reconnects: m[10],
      nextReconnectIn: opt(m[11]),
      connectedFor: opt(m[12]),
      waitingPublishes: this._waiting.length - this._waitingHead,
    };
  }

  /** Forgets this client's session stored in IndexedDB. */
  clearStoredSession() {
    if (this._notReady(() => this.clearStoredSession())) return;
    this._raw.clear_stored_session();
  }
}

function toBytes(data) {
  if (data === undefined || data === null) return undefined;
  if (typeof data === 'string') return new TextEncoder().encode(data);
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('expected a string or bytes');
}

/**
 * Creates a client and starts connecting, as `mqtt.connect`. As in MQTT.js, such a client has
 * an 'error' listener that does nothing, so an 'error' the application does not listen to is
 * not thrown (an operation's error still reaches its callback or promise); a client made with
 * `new MqttClient` throws them as Node's EventEmitter does.
 */
export function connect(url, options) {
  const client = new MqttClient(url, options);
  client.on('error', ignore);
  return client;
}

function ignore() {}

/**
 * The socket constructor for the Rust driver (`new Socket(url, protocol)`), or undefined where
 * the page's WebSocket serves: the platform's (Node: ws, TCP, TLS) and MQTT.js's
 * `createWebsocket` option.
 */
function socketFactory(o) {
  const open = sockets();
  const create = o.createWebsocket;
  if (open === null && !create) return undefined;
  return function Socket(url, protocol) {
    if (create && /^wss?:/i.test(url)) return create(url, [protocol], o);
    if (open !== null) return open(url, protocol, o);
    return new WebSocket(url, protocol);
  };
}

/**
 * The dispatch function and credentials provider given to the Rust client. They see only the
 * holder (strong while the client runs, weak otherwise) and the options.
 */
function toClient(holder, o) {
  const client = () => holder.strong ?? holder.weak.deref();
  // Nothing may be thrown into wasm (the call would be the Rust driver's, which cannot report
  // it): whatever escapes is thrown again from a microtask, as an event handler's error is.
  const dispatch = (at, words) => {
    try {
      client()?._dispatch(at, words);
    } catch (e) {
      queueMicrotask(() => { throw e; });
    }
  };
  const credentials = o.credentials ?? (o.transformWsUrl ? (u) => ({ url: o.transformWsUrl(u, o, client()) }) : undefined);
  return [dispatch, credentials, socketFactory(o)];
}

/**
 * The adapter over the application's stores (src/js/store.js); like `toClient`'s functions it
 * reaches the client only through `holder`, so the Rust side holding it keeps no cycle.
 */
function toStores(holder, incoming, outgoing) {
  return storesAdapter(incoming, outgoing, (packet) => {
    (holder.strong ?? holder.weak.deref())?.emit('message', packet.topic, packet.payload, packet);
  });
}

/**
 * Resolves with a connected client (after CONNACK), as `mqtt.connectAsync`. Rejects with an
 * MqttError when the broker refuses (`.code`: the return or reason code), or, when
 * `allowRetries` is false, on the first failure.
 */
export function connectAsync(url, options, allowRetries = true) {
  if (typeof url === 'object' && url !== null && typeof options !== 'object') {
    // connectAsync(options, allowRetries?), as MQTT.js accepts.
    allowRetries = options ?? true;
    options = undefined;
  }
  return new Promise((resolve, reject) => {
    const client = connect(url, options);
    const done = () => {
      client._onStop = null;
      client.off('connect', onConnect).off('error', onError).off('close', onClose);
    };
    const onConnect = () => {
      done();
      resolve(client);
    };
    const onError = (err) => {
      done();
      client.end(true);
      reject(err);
    };
    const onClose = (err) => {
      if (!allowRetries) onError(err ?? new MqttError('CONNECTION_LOST', 'the connection failed'));
    };
    // A client that gives up (reconnection off, or a refusal it must not retry) never connects.
    client._onStop = (err) => {
      if (client._onStop === null) return;
      onError(err);
    };
    client.on('connect', onConnect).on('error', onError).on('close', onClose);
  });
}
