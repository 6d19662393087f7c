// wasmqtt for Node (the package's "node" export): the same client, with the wasm module read
// from the package's own folder (synchronously on first use, so nothing needs an init call)
// and Node's transports: ws:// and wss:// through the `ws` package (or Node's
// own WebSocket), mqtt:// and mqtts:// over TCP and TLS (node-socket.js).

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { initSync as initCoreSync } from './wasmqtt_core.js';
import { setLoader, setSockets, setBytes } from './runtime.js';
import { nodeSocket } from './node-socket.js';

const WASM = new URL('./wasmqtt_core_bg.wasm', import.meta.url);

const instantiate = (bytes) => initCoreSync({ module: bytes });
setLoader(
  async (input) => instantiate(input ?? (await readFile(WASM))),
  (input) => instantiate(input ?? readFileSync(WASM)),
);
setSockets(nodeSocket);
// Payloads and other binary data are Buffers, as MQTT.js and mqtt-packet give them.
setBytes((buffer, offset, length) => Buffer.from(buffer, offset, length), (n) => Buffer.allocUnsafe(n));

export * from './wasmqtt.js';
export { default } from './wasmqtt.js';
