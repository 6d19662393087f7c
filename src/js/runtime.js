// The package's link to its wasm module and to the platform: how the module is loaded (the
// entry module for the platform registers it: wasmqtt.js fetches it in browsers, node.js reads
// it from the package's folder) and how sockets are opened where a page's WebSocket is not
// what is wanted (Node: the `ws` package, TCP and TLS).
//
// Design: one module-level state for the whole package, loaded at most once. Clients start
// loading it when the first one is made (`load`), so `import mqtt from 'wasmqtt';
// mqtt.connect(...)` needs no other call; the codec is synchronous and needs the module
// loaded first (`await init()` in a browser; in Node it loads synchronously on first use).

let exports = null;
let loading = null;
let loader = null;
let syncLoader = null;
let socketFor = null;

/** Registers how the module loads: `load()` gives a promise, `loadSync()` (Node) the exports. */
export function setLoader(load, loadSync) {
  loader = load;
  syncLoader = loadSync ?? null;
}

/** Registers `open(url, protocol, options)`, which makes the socket for a URL (Node). */
export function setSockets(open) {
  socketFor = open;
}

/** The platform's socket maker, or null where the page's WebSocket serves. */
export function sockets() {
  return socketFor;
}

export function setWasm(w) {
  exports = w;
}

export function isLoaded() {
  return exports !== null;
}

/** Loads the module once (with `input`, else as the platform's entry registered). */
export function load(input) {
  if (exports !== null) return Promise.resolve(exports);
  if (loading === null) {
    loading = Promise.resolve()
      .then(() => {
        if (!loader) throw new Error('wasmqtt: no way to load its wasm module on this platform');
        return loader(input);
      })
      .then(
        (w) => {
          exports = w;
          return w;
        },
        (e) => {
          loading = null; // a later call may try again (after the network came back)
          throw e;
        },
      );
  }
  return loading;
}

/** Loads the module synchronously (`input`: its bytes or a WebAssembly.Module). */
export function loadSync(input) {
  if (exports === null) {
    if (!syncLoader) throw new Error('wasmqtt: no way to load its wasm module synchronously on this platform');
    exports = syncLoader(input);
  }
  return exports;
}

/** The module's exports, loading them synchronously where the platform can (Node). */
export function requireWasm() {
  if (exports === null) {
    if (syncLoader !== null) return loadSync();
    throw new Error(
      "wasmqtt's wasm module is not loaded yet: `await init()` (or `await mqtt.ready()`) once before using the codec; clients load it by themselves",
    );
  }
  return exports;
}

/** The module's memory: found by its type, since the package's build shortens export names. */
export function wasmMemory() {
  const w = requireWasm();
  if (w !== memoryOf) {
    memoryOf = w;
    memory = Object.values(w).find((v) => v instanceof WebAssembly.Memory);
  }
  return memory;
}
let memoryOf = null;
let memory = null;

// ---------------------------------------------------------------- bytes given to applications

const text = new TextDecoder('utf-8', { ignoreBOM: true });
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * Binary data the package hands out in browsers (payloads, correlation data, encoded
 * packets): a Uint8Array whose `toString()` is its UTF-8 text, as a Node Buffer's is, so the
 * `message.toString()` of every MQTT.js example works. `toString('hex')` and
 * `toString('base64')` too. In Node the package hands out Buffers instead.
 */
export class Bytes extends Uint8Array {
  toString(encoding) {
    if (encoding === undefined || encoding === 'utf8' || encoding === 'utf-8') return text.decode(this);
    if (encoding === 'hex') {
      let s = '';
      for (let i = 0; i < this.length; i++) s += HEX[this[i]];
      return s;
    }
    if (encoding === 'base64') {
      let s = '';
      for (let i = 0; i < this.length; i += 0x8000) s += String.fromCharCode.apply(null, this.subarray(i, i + 0x8000));
      return btoa(s);
    }
    throw new TypeError(`unknown encoding ${JSON.stringify(encoding)}: utf8, hex or base64`);
  }
}

let viewOf = (buffer, offset, length) => new Bytes(buffer, offset, length);
let allocate = (n) => new Bytes(n);

/** Registers the platform's binary type (Node: Buffer). */
export function setBytes(view, alloc) {
  viewOf = view;
  allocate = alloc;
}

/** Bytes over `length` bytes of `buffer` from `offset` (no copy). */
export function bytesView(buffer, offset, length) {
  return viewOf(buffer, offset, length);
}

/** `n` new bytes. */
export function bytesAlloc(n) {
  return allocate(n);
}

/** A copy of `src[start..end]`. */
export function bytesCopy(src, start, end) {
  const out = allocate(end - start);
  out.set(src.subarray(start, end));
  return out;
}
