// wasmqtt/codec: mqtt-packet-shaped packets in and out of the Rust codec, as its own entry with
// its own wasm module (`wasmqtt_codec_bg.wasm`), so a page that only runs the client never
// loads the streaming parser, and a page that only parses never loads the client.
//
//   import { init, Parser, encodePacket, decodePacket } from 'wasmqtt/codec';
//   await init();                     // in a browser; automatic in Node
//
// The objects and the tape that carries them are shared with the client (tape.js); this module
// adds the streaming Parser and the entry's loading.

import initCodec, { initSync as initCodecSync, RawParser } from './wasmqtt_core.js';
import { setLoader, load, isLoaded, setWasm, requireWasm } from './runtime.js';
import { readInput, copyIn, level, toBytes, decodePacket, encodePacket, MqttCodecError, DEFAULT_MAX_PACKET } from './tape.js';

setLoader((input) => initCodec(input === undefined ? undefined : input));

/**
 * Loads and instantiates the codec's wasm module once (by default `wasmqtt_codec_bg.wasm` beside
 * this module; `input` says where else, or gives its bytes); resolves when it is ready.
 */
export function init(input) {
  return load(input);
}

/** Instantiates the codec's wasm module synchronously from its bytes or a WebAssembly.Module. */
export function initSync(input) {
  if (isLoaded()) return requireWasm();
  const w = initCodecSync(input);
  setWasm(w);
  return w;
}

/** Resolves when the codec's wasm module is loaded (loading it if needed). */
export function ready() {
  return load();
}

/**
 * A streaming parser: `push(bytes)` returns the packets completed by those bytes. Packets may be
 * split across pushes or several may arrive in one. A malformed stream throws MqttCodecError,
 * and every later push throws it again (until `reset()`).
 */
// Design: the Rust RawParser holds the partial packet and the decoded frames the tape points
// into; this wrapper keeps the topic strings of the tape's topic cache beside it (so a repeated
// topic is decoded once) and turns each call's tape into objects.
export class Parser {
  constructor(protocolVersion = 4, options = {}) {
    requireWasm();
    // 16 MiB unless asked otherwise (0: the protocol's 256 MiB), as the client's default.
    this._raw = new RawParser(level(protocolVersion), options.maxPacketSize ?? DEFAULT_MAX_PACKET);
    // Topic strings by slot, kept in step with the parser's topic cache in Rust.
    this._topics = new Array(64);
  }

  push(bytes) {
    const raw = this._raw;
    const data = toBytes(bytes, 'bytes');
    const at = raw.input(data.length);
    copyIn(data, at);
    const n = raw.decode();
    if (n < 0) throw new MqttCodecError(raw.error_message(), raw.error_rule(), raw.error_reason_code());
    if (n === 0) return [];
    return readInput(data, at, raw.tape_ptr(), raw.tape_len(), this._topics);
  }

  /** The protocol version packets are decoded as (a CONNECT switches it). */
  get protocolVersion() {
    return this._raw.level();
  }

  reset() {
    this._raw.reset();
  }

  free() {
    this._raw.free();
  }
}

export { decodePacket, encodePacket, MqttCodecError };

/**
 * The default export is `init` itself, carrying the named exports too, as the client entry's:
 * code written for the codec's earlier home (`import init, { Parser } from 'wasmqtt'`) only
 * changes the specifier.
 */
const codec = Object.assign(init, { init, initSync, ready, Parser, decodePacket, encodePacket, MqttCodecError });
export default codec;
