// Type declarations for `wasmqtt/codec`: mqtt-packet-shaped packets in and out of wasmqtt's
// codec, with its own wasm module (`wasmqtt_codec_bg.wasm`). The packet shapes are the client's
// (wasmqtt.d.ts).

import type { Packet, ProtocolVersion } from './wasmqtt.js';
export type * from './wasmqtt.js';

/**
 * Loads and instantiates the codec's wasm module once (by default `wasmqtt_codec_bg.wasm` next to
 * the module). Needed first in a browser; in Node the module loads by itself on first use.
 */
export function init(
  input?: { module_or_path: RequestInfo | URL | Response | BufferSource | WebAssembly.Module } | RequestInfo | URL,
): Promise<unknown>;

/** Instantiates the codec's wasm module synchronously from its bytes or a WebAssembly.Module. */
export function initSync(input: { module: BufferSource | WebAssembly.Module } | BufferSource | WebAssembly.Module): unknown;

/** Resolves when the codec's wasm module is loaded (loading it if needed). */
export function ready(): Promise<unknown>;

/** A packet that cannot be decoded or encoded. */
export class MqttCodecError extends Error {
  name: 'MqttCodecError';
  /** The normative statement broken, e.g. "MQTT-3.3.1-4", when one applies. */
  rule?: string;
  /** Decoding: the MQTT 5 reason code to close the connection with (0x81 Malformed Packet, ...). */
  reasonCode?: number;
}

/**
 * Encodes a packet. Throws TypeError for a wrongly shaped object, MqttCodecError for a packet the
 * specification forbids (a wildcard in a topic name, a missing packet identifier, ...).
 */
export function encodePacket(packet: Packet, protocolVersion?: ProtocolVersion): Uint8Array;

/** Decodes exactly one whole packet; throws MqttCodecError for anything else. */
export function decodePacket(bytes: Uint8Array | ArrayBuffer, protocolVersion?: ProtocolVersion): Packet;

/** A streaming parser for one connection: packets may be split across or joined in chunks. */
export class Parser {
  /** `maxPacketSize`: the largest packet accepted, fixed header included (default 16 MiB; 0: the protocol's 256 MiB). */
  constructor(protocolVersion?: ProtocolVersion, options?: { maxPacketSize?: number });
  /** The packets completed by these bytes. A malformed stream throws MqttCodecError, then again on every push. */
  push(bytes: Uint8Array | ArrayBuffer): Packet[];
  /** The version packets are decoded as (a decoded CONNECT switches it). */
  readonly protocolVersion: ProtocolVersion;
  /** Forgets buffered bytes and any error. */
  reset(): void;
  /** Frees the wasm memory now instead of at garbage collection. */
  free(): void;
}

/** `init` itself, carrying the named exports too (as the client entry's default export). */
declare const codec: typeof init & {
  init: typeof init;
  initSync: typeof initSync;
  ready: typeof ready;
  Parser: typeof Parser;
  encodePacket: typeof encodePacket;
  decodePacket: typeof decodePacket;
  MqttCodecError: typeof MqttCodecError;
};
export default codec;
