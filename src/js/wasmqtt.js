// wasmqtt: an MQTT 3.1.1 / 5.0 client and codec for the browser, compiled from Rust.
//
//   import init, { connect, connectAsync } from 'wasmqtt';
//   await init();                       // browsers and bundlers
//   initSync({ module: wasmBytes });    // Node, or when the bytes are already at hand

import initCore, { initSync as initCoreSync } from './wasmqtt_core.js';
import { setWasm } from './runtime.js';

/** Loads and instantiates the wasm module (by default `wasmqtt_core_bg.wasm` beside this file). */
export default async function init(input) {
  const w = await initCore(input);
  setWasm(w);
  return w;
}

/** Instantiates the wasm module synchronously from its bytes or a WebAssembly.Module. */
export function initSync(input) {
  const w = initCoreSync(input);
  setWasm(w);
  return w;
}

export { connect, connectAsync, MqttClient, MqttError } from './client.js';
export { encodePacket, decodePacket, Parser, MqttCodecError } from './codec.js';
