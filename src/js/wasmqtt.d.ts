// Type declarations for the wasmqtt npm package.
// Packet objects follow mqtt-packet's shapes and field names; binary fields are Uint8Array.

/** Loads and instantiates the wasm module (by default `wasmqtt_core_bg.wasm` next to the module). */
export default function init(
  input?: { module_or_path: RequestInfo | URL | Response | BufferSource | WebAssembly.Module } | RequestInfo | URL,
): Promise<unknown>;

/** Instantiates the wasm module synchronously (Node: `initSync({ module: readFileSync(path) })`). */
export function initSync(input: { module: BufferSource | WebAssembly.Module } | BufferSource | WebAssembly.Module): unknown;

export type QoS = 0 | 1 | 2;
export type ProtocolVersion = 3 | 4 | 5;
/** User properties: a repeated name maps to an array of its values, in order. */
export type UserProperties = { [name: string]: string | string[] };
export type Binary = Uint8Array;

/** Fields every decoded packet has (taken from its fixed header, as mqtt-packet does). */
interface PacketBase {
  retain?: boolean;
  qos?: QoS;
  dup?: boolean;
  /** Remaining Length from the fixed header (decoded packets only). */
  length?: number;
}

export interface WillProperties {
  willDelayInterval?: number;
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Binary;
  userProperties?: UserProperties;
}

export interface ConnectPacket extends PacketBase {
  cmd: 'connect';
  protocolId?: 'MQTT' | 'MQIsdp';
  protocolVersion?: ProtocolVersion;
  /** Clean Session (3.1.1) / Clean Start (5.0); default true. */
  clean?: boolean;
  keepalive?: number;
  clientId: string;
  username?: string;
  password?: Binary | string;
  will?: { topic: string; payload: Binary | string; qos?: QoS; retain?: boolean; properties?: WillProperties };
  properties?: {
    sessionExpiryInterval?: number;
    receiveMaximum?: number;
    maximumPacketSize?: number;
    topicAliasMaximum?: number;
    requestResponseInformation?: boolean;
    requestProblemInformation?: boolean;
    userProperties?: UserProperties;
    authenticationMethod?: string;
    authenticationData?: Binary;
  };
}

export interface ConnackPacket extends PacketBase {
  cmd: 'connack';
  sessionPresent: boolean;
  /** MQTT 3.1 / 3.1.1 return code. */
  returnCode?: number;
  /** MQTT 5 reason code. */
  reasonCode?: number;
  properties?: {
    sessionExpiryInterval?: number;
    receiveMaximum?: number;
    maximumQoS?: 0 | 1;
    retainAvailable?: boolean;
    maximumPacketSize?: number;
    assignedClientIdentifier?: string;
    topicAliasMaximum?: number;
    reasonString?: string;
    userProperties?: UserProperties;
    wildcardSubscriptionAvailable?: boolean;
    subscriptionIdentifiersAvailable?: boolean;
    sharedSubscriptionAvailable?: boolean;
    serverKeepAlive?: number;
    responseInformation?: string;
    serverReference?: string;
    authenticationMethod?: string;
    authenticationData?: Binary;
  };
}

export interface PublishProperties {
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  topicAlias?: number;
  responseTopic?: string;
  correlationData?: Binary;
  userProperties?: UserProperties;
  /** Several when a message matched several subscriptions with identifiers. */
  subscriptionIdentifier?: number | number[];
  contentType?: string;
}

export interface PublishPacket extends PacketBase {
  cmd: 'publish';
  topic: string;
  /** Decoded payloads may share memory with the input they were decoded from. */
  payload: Binary | string;
  messageId?: number;
  properties?: PublishProperties;
}

interface AckProperties {
  reasonString?: string;
  userProperties?: UserProperties;
}

export interface PubackPacket extends PacketBase { cmd: 'puback'; messageId: number; reasonCode?: number; properties?: AckProperties }
export interface PubrecPacket extends PacketBase { cmd: 'pubrec'; messageId: number; reasonCode?: number; properties?: AckProperties }
export interface PubrelPacket extends PacketBase { cmd: 'pubrel'; messageId: number; reasonCode?: number; properties?: AckProperties }
export interface PubcompPacket extends PacketBase { cmd: 'pubcomp'; messageId: number; reasonCode?: number; properties?: AckProperties }

export interface Subscription {
  topic: string;
  qos: QoS;
  /** MQTT 5 No Local. */
  nl?: boolean;
  /** MQTT 5 Retain As Published. */
  rap?: boolean;
  /** MQTT 5 Retain Handling: 0 send at subscribe, 1 only if new, 2 never. */
  rh?: 0 | 1 | 2;
}

export interface SubscribePacket extends PacketBase {
  cmd: 'subscribe';
  messageId: number;
  subscriptions: Subscription[];
  properties?: { subscriptionIdentifier?: number; userProperties?: UserProperties };
}

export interface SubackPacket extends PacketBase {
  cmd: 'suback';
  messageId: number;
  /** Granted QoS (0, 1, 2) or a failure code (0x80 and above), one per subscription. */
  granted: number[];
  properties?: AckProperties;
}

export interface UnsubscribePacket extends PacketBase {
  cmd: 'unsubscribe';
  messageId: number;
  unsubscriptions: string[];
  properties?: { userProperties?: UserProperties };
}

export interface UnsubackPacket extends PacketBase {
  cmd: 'unsuback';
  messageId: number;
  /** MQTT 5 reason codes, one per filter. */
  granted?: number[];
  properties?: AckProperties;
}

export interface PingreqPacket extends PacketBase { cmd: 'pingreq' }
export interface PingrespPacket extends PacketBase { cmd: 'pingresp' }

export interface DisconnectPacket extends PacketBase {
  cmd: 'disconnect';
  reasonCode?: number;
  properties?: { sessionExpiryInterval?: number; reasonString?: string; userProperties?: UserProperties; serverReference?: string };
}

export interface AuthPacket extends PacketBase {
  cmd: 'auth';
  reasonCode: number;
  properties?: { authenticationMethod?: string; authenticationData?: Binary; reasonString?: string; userProperties?: UserProperties };
}

export type Packet =
  | ConnectPacket | ConnackPacket | PublishPacket | PubackPacket | PubrecPacket | PubrelPacket | PubcompPacket
  | SubscribePacket | SubackPacket | UnsubscribePacket | UnsubackPacket | PingreqPacket | PingrespPacket
  | DisconnectPacket | AuthPacket;

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
