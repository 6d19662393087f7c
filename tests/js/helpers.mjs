// The package under test in Node: as installed from what `npm pack` makes of pkg/ (cargo xtask
// test installs it into node_modules/wasmqtt), through its "node" export.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// WASMQTT_PKG points at another build of the package (to compare builds in benchmarks): its
// browser module, initialised by hand (older builds have no Node entry).
export const pkgDir = process.env.WASMQTT_PKG
  ? process.env.WASMQTT_PKG.replace(/\/?$/, '/')
  : fileURLToPath(new URL('../../pkg/', import.meta.url));
let wasmqtt;
let codecModule;
if (process.env.WASMQTT_PKG) {
  wasmqtt = await import(pkgDir + 'wasmqtt.js');
  wasmqtt.initSync({ module: readFileSync(pkgDir + 'wasmqtt_core_bg.wasm') });
  // Builds before the codec had its own entry carried it in wasmqtt.js.
  if (existsSync(pkgDir + 'codec.js')) {
    codecModule = await import(pkgDir + 'codec.js');
    codecModule.initSync({ module: readFileSync(pkgDir + 'wasmqtt_codec_bg.wasm') });
  } else {
    codecModule = wasmqtt;
  }
} else {
  wasmqtt = await import('wasmqtt');
  codecModule = await import('wasmqtt/codec');
}
export default wasmqtt;
/** The codec entry, `wasmqtt/codec`: encodePacket, decodePacket, Parser, MqttCodecError. */
export const codec = codecModule;

/** Plain, comparable data: byte arrays as hex, null-prototype objects as plain ones. */
export function plain(x) {
  if (x instanceof Uint8Array) return { hex: Buffer.from(x).toString('hex') };
  if (Array.isArray(x)) return x.map(plain);
  if (x !== null && typeof x === 'object') {
    const out = {};
    for (const k of Object.keys(x).sort()) if (x[k] !== undefined) out[k] = plain(x[k]);
    return out;
  }
  return x;
}

export function hex(s) {
  return new Uint8Array(Buffer.from(s.replace(/#.*$/gm, '').replace(/\s+/g, ''), 'hex'));
}
