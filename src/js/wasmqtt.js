// wasmqtt: an MQTT 3.1.1 / 5.0 client for the browser (and Node), compiled from Rust.
//
//   import mqtt from 'wasmqtt';          // as MQTT.js: mqtt.connect(url, options)
//   import { connect, connectAsync } from 'wasmqtt';
//
// Clients load the wasm module by themselves (`wasmqtt_core_bg.wasm` beside this file). The
// codec (encodePacket, decodePacket, Parser) is its own entry, `wasmqtt/codec` (codec.js), with
// its own module, as mqtt-packet is apart from MQTT.js.

import initCore, { initSync as initCoreSync } from './wasmqtt_core.js';
import { setLoader, load, isLoaded, setWasm, requireWasm } from './runtime.js';
import { connect, connectAsync, MqttClient, MqttError } from './client.js';
import { Store } from './store.js';
import { DefaultMessageIdProvider, UniqueMessageIdProvider } from './message-ids.js';

setLoader((input) => initCore(input === undefined ? undefined : input));

/**
 * Loads and instantiates the wasm module once (by default `wasmqtt_core_bg.wasm` beside this
 * module; `input` says where else, or gives its bytes); resolves when it is ready.
 */
export function init(input) {
  return load(input);
}

/** Instantiates the wasm module synchronously from its bytes or a WebAssembly.Module. */
export function initSync(input) {
  if (isLoaded()) return requireWasm();
  const w = initCoreSync(input);
  setWasm(w);
  return w;
}

/** Resolves when the wasm module is loaded (loading it if no client did yet). */
export function ready() {
  return load();
}

export { connect, connectAsync, MqttClient, MqttError, Store, DefaultMessageIdProvider, UniqueMessageIdProvider };
// MQTT.js's names for its error classes: wasmqtt has one, MqttError, with `code` and `reasonCode`
// as MQTT.js's ErrorWithReasonCode and, for a refused subscription, `packet` as its
// ErrorWithSubackPacket.
export { MqttError as ErrorWithReasonCode, MqttError as ErrorWithSubackPacket };
/** MQTT.js's `Client`, another name for MqttClient. */
export { MqttClient as Client };

/**
 * The default export, as MQTT.js's: `mqtt.connect(...)`. It is also `init` itself, so code
 * written for earlier versions (`import init from 'wasmqtt'; await init()`) still works.
 */
const mqtt = Object.assign(init, {
  init, initSync, ready, connect, connectAsync, MqttClient, Client: MqttClient, MqttError, Store,
  DefaultMessageIdProvider, UniqueMessageIdProvider,
  ErrorWithReasonCode: MqttError, ErrorWithSubackPacket: MqttError,
});
export default mqtt;
