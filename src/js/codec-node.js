// wasmqtt/codec for Node (the "node" condition of the package's "./codec" export): the same
// codec, with its wasm module read from the package's folder synchronously on first use, so no
// init call is needed; packets' binary fields are Buffers, as mqtt-packet gives them.

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { initSync as initCodecSync } from './wasmqtt_core.js';
import { setLoader, setBytes } from './runtime.js';

const WASM = new URL('./wasmqtt_codec_bg.wasm', import.meta.url);

const instantiate = (bytes) => initCodecSync({ module: bytes });
setLoader(
  async (input) => instantiate(input ?? (await readFile(WASM))),
  (input) => instantiate(input ?? readFileSync(WASM)),
);
setBytes((buffer, offset, length) => Buffer.from(buffer, offset, length), (n) => Buffer.allocUnsafe(n));

export * from './codec.js';
export { default } from './codec.js';
