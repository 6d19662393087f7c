// Holds the instantiated wasm module so the package's modules can read its memory.

let exports = null;

export function setWasm(w) {
  exports = w;
}

export function wasmMemory() {
  if (exports === null) {
    throw new Error('wasmqtt is not initialised: call `await init()` (or `initSync(...)`) first');
  }
  return exports.memory;
}
