// Type declarations for the wasmqtt npm package's client (the codec entry, `wasmqtt/codec`, is
// declared in codec.d.ts and shares the packet shapes declared here). Packet objects follow
// mqtt-packet's shapes and field names; binary fields are Uint8Array.
//
// Length: one file, as the package ships it (`types` in package.json points here); most of it is
// the packet shapes, every option and every MqttClient member with its documentation, and the
// names MQTT.js code imports. Splitting would only add imports between declaration files.

/**
 * Loads and instantiates the wasm module once (by default `wasmqtt_core_bg.wasm` next to the
 * module; in Node, from the package's folder). Clients do it by themselves.
 */
export function init(
  input?: { module_or_path: RequestInfo | URL | Response | BufferSource | WebAssembly.Module } | RequestInfo | URL,
): Promise<unknown>;

/** Instantiates the wasm module synchronously from its bytes or a WebAssembly.Module. */
export function initSync(input: { module: BufferSource | WebAssembly.Module } | BufferSource | WebAssembly.Module): unknown;

/** Resolves when the wasm module is loaded (loading it if no client did yet). */
export function ready(): Promise<unknown>;

/**
 * The default export, as MQTT.js's: `import mqtt from 'wasmqtt'; mqtt.connect(url)`. It is
 * also `init` (code written as `import init from 'wasmqtt'; await init()` still works).
 */
declare const mqtt: typeof init & {
  init: typeof init;
  initSync: typeof initSync;
  ready: typeof ready;
  connect: typeof connect;
  connectAsync: typeof connectAsync;
  MqttClient: typeof MqttClient;
  Client: typeof MqttClient;
  MqttError: typeof MqttError;
  ErrorWithReasonCode: typeof MqttError;
  ErrorWithSubackPacket: typeof MqttError;
  Store: typeof Store;
  DefaultMessageIdProvider: typeof DefaultMessageIdProvider;
  UniqueMessageIdProvider: typeof UniqueMessageIdProvider;
};
export default mqtt;

/**
 * Binary data the package hands out: in browsers a Uint8Array whose `toString()` is its UTF-8
 * text (as a Node Buffer's), in Node a Buffer.
 */
export interface Bytes extends Uint8Array {
  toString(encoding?: 'utf8' | 'utf-8' | 'hex' | 'base64'): string;
}

export type QoS = 0 | 1 | 2;
export type ProtocolVersion = 3 | 4 | 5;
/** User properties: a repeated name maps to an array of its values, in order. */
export type UserProperties = { [name: string]: string | string[] };
export type Binary = Bytes;

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

// mqtt-packet's and MQTT.js's names for the same shapes (code written for MQTT.js compiles).
export type IConnectPacket = ConnectPacket;
export type IConnackPacket = ConnackPacket;
export type IPublishPacket = PublishPacket;
export type IPubackPacket = PubackPacket;
export type IPubrecPacket = PubrecPacket;
export type IPubrelPacket = PubrelPacket;
export type IPubcompPacket = PubcompPacket;
export type ISubscription = Subscription;
export type ISubscribePacket = SubscribePacket;
export type ISubackPacket = SubackPacket;
export type IUnsubscribePacket = UnsubscribePacket;
export type IUnsubackPacket = UnsubackPacket;
export type IPingreqPacket = PingreqPacket;
export type IPingrespPacket = PingrespPacket;
export type IDisconnectPacket = DisconnectPacket;
export type IAuthPacket = AuthPacket;

// ---------------------------------------------------------------- the client (MQTT.js-compatible)

/**
 * An MQTT error. `code`: the MQTT return code (3.1.1) or reason code (5.0) when there is one, as
 * MQTT.js reports it, else `kind`. `kind` is always a stable name.
 */
export class MqttError extends Error {
  name: 'MqttError';
  kind:
    | 'CONNECTION_REFUSED' | 'CONNECT_TIMEOUT' | 'KEEPALIVE_TIMEOUT' | 'CONNECTION_LOST' | 'SERVER_DISCONNECTED'
    | 'SESSION_TAKEN_OVER' | 'SUSPECTED_TAKEOVER' | 'MALFORMED_PACKET' | 'PROTOCOL_VIOLATION' | 'PUBLISH_REJECTED'
    | 'INVALID_TOPIC' | 'INVALID_FILTER' | 'ENCODE' | 'PACKET_TOO_LARGE' | 'OUTBOX_FULL' | 'MESSAGE_TOO_LARGE' | 'DROPPED' | 'SUPERSEDED'
    | 'EXPIRED' | 'NOT_CONNECTED' | 'QOS_NOT_SUPPORTED' | 'RETAIN_NOT_SUPPORTED' | 'UNSUPPORTED' | 'ENDED' | 'CANCELLED'
    | 'TOO_MANY' | 'REQUEST_TIMEOUT' | 'REMOVED' | 'SESSION_LOST' | 'CONFIG' | 'PERSISTENCE' | 'INTERNAL'
    /** The wasm module could not be loaded (see README: bundlers). */
    | 'LOAD_FAILED'
    /** A subscription was refused (the SUBACK is on `packet`, as in MQTT.js). */
    | 'SUBSCRIBE_REFUSED';
  code: number | string;
  /** The MQTT 5 reason code behind the error, if any (3.1.1 return codes are mapped). */
  reasonCode?: number;
  /** SUBSCRIBE_REFUSED: the SUBACK's codes, as MQTT.js puts the packet on the error. */
  packet?: { cmd: 'suback'; granted: number[] };
}

/**
 * MQTT.js's error classes are this one in wasmqtt: `code` (and `reasonCode`) as
 * ErrorWithReasonCode's, `packet` on a refused subscription as ErrorWithSubackPacket's.
 */
export declare const ErrorWithReasonCode: typeof MqttError;
export type ErrorWithReasonCode = MqttError;
export declare const ErrorWithSubackPacket: typeof MqttError;
export type ErrorWithSubackPacket = MqttError;

/** Options, named as in MQTT.js; the wasmqtt additions are marked. */
export interface IClientOptions {
  clientId?: string;
  /** 3 (MQTT 3.1), 4 (3.1.1, default) or 5. */
  protocolVersion?: ProtocolVersion;
  protocolId?: 'MQTT' | 'MQIsdp';
  /** Clean Session / Clean Start. Default true. */
  clean?: boolean;
  /** Seconds; 0 disables. Default 60. */
  keepalive?: number;
  username?: string;
  password?: string | Uint8Array;
  will?: { topic: string; payload: string | Uint8Array; qos?: QoS; retain?: boolean; properties?: WillProperties };
  /** Base of the reconnect backoff in ms; 0 disables reconnecting. Default 1000. */
  reconnectPeriod?: number;
  /** ms from opening the WebSocket to CONNACK. Default 30000. */
  connectTimeout?: number;
  properties?: ConnectPacket['properties'];
  /** Queue QoS 0 messages published while offline. Default true. */
  queueQoSZero?: boolean;
  /** Do not connect until `client.connect()`. */
  manualConnect?: boolean;
  /** Failover brokers, tried in turn. */
  servers?: { host: string; port: number; protocol?: Protocol }[];
  /** Overrides the URL's scheme (as in MQTT.js; in a browser mqtt becomes ws, mqtts wss). */
  protocol?: Protocol;
  /** Overrides the URL's host (or, with no URL, names the broker). */
  host?: string;
  hostname?: string;
  /** Overrides the URL's port. */
  port?: number;
  /** Overrides the URL's path (WebSocket only). Default '/'. */
  path?: string;
  /** Makes the WebSocket for ws:// and wss:// URLs (MQTT.js). */
  createWebsocket?: (url: string, websocketSubProtocols: string[], options: ClientOptions) => unknown;
  /** Node: options for the `ws` package's WebSocket (headers, agent, TLS). */
  wsOptions?: Record<string, unknown>;
  /** Node, mqtts://: TLS options as in MQTT.js (and Node's tls.connect). */
  ca?: string | Uint8Array | (string | Uint8Array)[];
  cert?: string | Uint8Array;
  key?: string | Uint8Array;
  rejectUnauthorized?: boolean;
  servername?: string;
  /** Rewrites the URL before each connection (MQTT.js); see also `credentials`. */
  transformWsUrl?: (url: string, options: ClientOptions, client: MqttClient) => string;
  /** MQTT 5 extended authentication: answers a challenge from the server. */
  handleAuth?: (challenge: { method: string; data?: Uint8Array }) => Uint8Array | string | Promise<Uint8Array | string>;

  /** wasmqtt: called before every (re)connection for the URL and credentials (tokens expire). */
  credentials?: (url: string, attempt: number) =>
    | { url?: string; username?: string; password?: string | Uint8Array }
    | Promise<{ url?: string; username?: string; password?: string | Uint8Array }>;
  /** wasmqtt: reconnection policy (exponential backoff with full jitter from `reconnectPeriod`). */
  reconnect?: {
    /** Cap of the backoff, ms. Default 30000. */
    maxDelay?: number;
    /** A connection lasting this long (ms) resets the backoff. Default 10000. */
    stableAfter?: number;
    /** Minimum delay after "server busy" / "quota exceeded", ms. Default 15000. */
    busyDelay?: number;
    /** Connections closed within this time (ms) after CONNACK count as takeovers. Default 10000. */
    takeoverWindow?: number;
    /** Stop after this many takeovers in a row (error SUSPECTED_TAKEOVER). Default 3. */
    takeoverThreshold?: number;
    /** Follow at most this many server redirections in a row. Default 5. */
    maxRedirects?: number;
    /** Send username and password to a host a server redirects to (0x9C / 0x9D) that is not one of the URLs given. Default false (true with a `credentials` provider, which is told each URL). Redirects never go from wss to ws. */
    redirectCredentials?: boolean;
  };
  /** wasmqtt: the outbox of messages not yet sent (offline, or beyond the server's quota). */
  outbox?: {
    /** Default 10000. */
    maxMessages?: number;
    /** Topic and payload bytes. Default 16 MiB. */
    maxBytes?: number;
    /** When full. Default 'reject-new' (publishers wait, see `publish`). */
    policy?: 'reject-new' | 'drop-oldest' | 'latest-per-topic';
  };
  /**
   * wasmqtt: QoS 1/2 messages in flight at most. Default: MQTT 5, the server's Receive Maximum;
   * before MQTT 5, 20 while a QoS 2 message is in flight, else packet identifiers only (over
   * MQTT 3.1.1 mosquitto's quota of 20 counts QoS 2 messages awaiting PUBREL; beyond it, it
   * acknowledges messages and drops them).
   */
  maxInflight?: number;
  /** wasmqtt: keep a persistent session in IndexedDB across reloads. Default 'indexeddb'. */
  persistence?: 'indexeddb' | 'volatile';
  /** wasmqtt: the IndexedDB key (default: broker URL and client id). Passwords are never stored. */
  persistenceKey?: string;
  /** wasmqtt: ms to wait for a PINGRESP (default: half the keep alive). */
  pingTimeout?: number;
  /** wasmqtt: run deadlines in a Worker, unthrottled in hidden tabs. Default true. */
  workerTimer?: boolean;
  /** wasmqtt: back-pressure threshold of the WebSocket's bufferedAmount, bytes. Default 1 MiB. */
  highWaterMark?: number;
  /** wasmqtt: how long `end()` waits for in-flight messages, ms. Default 10000. */
  disconnectTimeout?: number;
  /**
   * Keep the session in these stores (MQTT.js's Store interface) instead of IndexedDB: the
   * outgoing store holds the QoS 1 / 2 messages not yet acknowledged (keyed by messageId; a
   * message still queued, which has no identifier yet, by 65536 + its number), the incoming
   * store the QoS 2 identifiers awaiting PUBREL. A client created with stores that hold a
   * session sends what they hold. Given one, the other defaults to an in-memory Store.
   */
  incomingStore?: IStore;
  /** See `incomingStore`. */
  outgoingStore?: IStore;
  /**
   * The order of packet identifiers: `new UniqueMessageIdProvider()` gives the lowest free
   * first, `new DefaultMessageIdProvider()` (the default) the next in sequence. They are given
   * by the client core, which never gives one in use; a provider of your own is not consulted
   * (warned about once).
   */
  messageIdProvider?: IMessageIdProvider;

  // MQTT.js options that have no effect here: accepted so MQTT.js code compiles, and warned
  // about once at run time (console.warn says why and what to use instead).
  /** @deprecated no effect in wasmqtt: topic aliases are used within the server's Topic Alias Maximum. */
  autoUseTopicAlias?: boolean;
  /** @deprecated no effect in wasmqtt: topic aliases are used within the server's Topic Alias Maximum. */
  autoAssignTopicAlias?: boolean;
  /** @deprecated no effect in wasmqtt: keep-alive is scheduled by the client core. */
  reschedulePings?: boolean;
  /** @deprecated no effect in wasmqtt: deadlines run in a Worker in browsers (`workerTimer`). */
  timerVariant?: unknown;
  /** @deprecated no effect in wasmqtt. */
  log?: (...args: any[]) => void;
  /** @deprecated no effect in wasmqtt: use `handleMessage`. */
  customHandleAcks?: unknown;
  /** @deprecated no effect in wasmqtt: a refusal is retried or not by its reason code. */
  reconnectOnConnackError?: boolean;
  /** @deprecated no effect in wasmqtt: one SUBSCRIBE carries the filters of one call. */
  subscribeBatchSize?: number;
  /** @deprecated no effect in wasmqtt: the packets of one task leave in one write. */
  writeCache?: boolean;
  /** @deprecated no effect in wasmqtt: back-pressure follows `highWaterMark`. */
  browserBufferSize?: number;
  /** @deprecated no effect in wasmqtt: back-pressure follows `highWaterMark`. */
  browserBufferTimeout?: number;
  /** @deprecated no effect in wasmqtt. */
  objectMode?: boolean;
  /** @deprecated no effect in wasmqtt: payloads are bytes. */
  encoding?: string;
  /** @deprecated no effect in wasmqtt: Node uses the ws package when installed, else its WebSocket. */
  forceNativeWebSocket?: boolean;
  /** Only `true` (the default) is supported: subscriptions a new session lacks are made again. */
  resubscribe?: true;
  /** Query parameters of the broker URL (MQTT.js's URL parsing). */
  query?: Record<string, string>;
}
/** @deprecated the MQTT.js name is IClientOptions. */
export type ClientOptions = IClientOptions;

export interface IClientPublishOptions {
  qos?: QoS;
  retain?: boolean;
  dup?: boolean;
  properties?: PublishProperties;
}
/** @deprecated the MQTT.js name is IClientPublishOptions. */
export type PublishOptions = IClientPublishOptions;

export interface IClientSubscribeProperties {
  properties?: { subscriptionIdentifier?: number; userProperties?: UserProperties };
}
export interface IClientSubscribeOptions extends IClientSubscribeProperties {
  qos?: QoS;
  /** MQTT 5 No Local. */
  nl?: boolean;
  /** MQTT 5 Retain As Published. */
  rap?: boolean;
  /** MQTT 5 Retain Handling: 0 send at subscribe, 1 only if new, 2 never. */
  rh?: number;
}
/** @deprecated the MQTT.js name is IClientSubscribeOptions. */
export type SubscribeOptions = IClientSubscribeOptions;
export interface ISubscriptionRequest extends IClientSubscribeOptions {
  topic: string;
}
/** What the server granted a filter: its QoS, or a failure code (0x80 and above). */
export interface ISubscriptionGrant {
  topic: string;
  qos: QoS | 128 | number;
  nl?: boolean;
  rap?: boolean;
  rh?: number;
}
/** @deprecated the MQTT.js name is ISubscriptionGrant[]. */
export type Granted = ISubscriptionGrant[];
export type ISubscriptionMap = { [topic: string]: IClientSubscribeOptions } & { resubscribe?: boolean };
export interface IClientUnsubscribeProperties {
  properties?: { userProperties?: UserProperties };
}

// MQTT.js's callback types.
export type DoneCallback = (error?: Error) => void;
export type VoidCallback = () => void;
export type OnConnectCallback = (packet: IConnackPacket) => void;
export type OnDisconnectCallback = (packet: IDisconnectPacket) => void;
/** `payload`: a Buffer in Node, in browsers a Uint8Array whose toString() is its UTF-8 text. */
export type OnMessageCallback = (topic: string, payload: Bytes, packet: IPublishPacket) => void;
export type OnPacketCallback = (packet: Packet) => void;
/** wasmqtt passes why the connection closed (null after end()); MQTT.js passes nothing. */
export type OnCloseCallback = (error?: MqttError | null) => void;
export type OnErrorCallback = (error: Error | ErrorWithReasonCode) => void;
/**
 * A publish's outcome, as MQTT.js's: no packet at QoS 0, the PUBLISH sent at QoS 1 and the PUBREL
 * at QoS 2 (with the messageId the broker acknowledged). `error` is null (as MQTT.js passes it,
 * whatever its types say) or an MqttError.
 */
export type PacketCallback = (error?: Error | ErrorWithReasonCode, packet?: Packet) => any;
export type ClientSubscribeCallback = (error: Error | null, granted?: ISubscriptionGrant[], packet?: ISubackPacket) => void;
export type CloseCallback = (error?: Error) => void;

export interface Metrics {
  rtt: number | null;
  rttSmoothed: number | null;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  inflightOut: number;
  inflightIn: number;
  outboxMessages: number;
  outboxBytes: number;
  reconnects: number;
  nextReconnectIn: number | null;
  connectedFor: number | null;
  waitingPublishes: number;
}

/** Where a client connects: WebSocket everywhere; TCP and TLS in Node. */
export type Protocol = 'ws' | 'wss' | 'mqtt' | 'mqtts' | 'tcp' | 'ssl' | 'tls';

/** MQTT.js's message identifier provider interface. */
export interface IMessageIdProvider {
  allocate(): number | null;
  getLastAllocated(): number | null;
  register(num: number): boolean;
  deallocate(num: number): void;
  clear(): void;
}

/** Identifiers in sequence from a random start (MQTT.js's default). */
export class DefaultMessageIdProvider implements IMessageIdProvider {
  allocate(): number | null;
  getLastAllocated(): number | null;
  register(num: number): boolean;
  deallocate(num: number): void;
  clear(): void;
}

/** The lowest identifier not in use. */
export class UniqueMessageIdProvider implements IMessageIdProvider {
  allocate(): number | null;
  getLastAllocated(): number | null;
  register(num: number): boolean;
  deallocate(num: number): void;
  clear(): void;
}

/** MQTT.js's Store interface: packets by messageId. */
export interface IStore {
  put(packet: Packet, cb: DoneCallback): IStore;
  /** The packets held, as an object-mode readable stream ('data', 'end', 'error'). */
  createStream(): { on(event: string, cb: (...args: any[]) => void): unknown };
  del(packet: { messageId?: number }, cb: (error?: Error | null, packet?: Packet) => void): IStore;
  get(packet: { messageId?: number }, cb: (error?: Error | null, packet?: Packet) => void): IStore;
  close(cb: DoneCallback): void;
}

export interface IStoreOptions {
  /** close() forgets the packets. Default true. */
  clean?: boolean;
}

/** MQTT.js's in-memory Store. */
export class Store implements IStore {
  constructor(options?: IStoreOptions);
  put(packet: Packet, cb: DoneCallback): this;
  createStream(): { on(event: string, cb: (...args: any[]) => void): unknown; read(): Packet | null; destroy(): unknown; [Symbol.asyncIterator](): AsyncIterator<Packet> };
  del(packet: { messageId?: number }, cb: (error?: Error | null, packet?: Packet) => void): this;
  get(packet: { messageId?: number }, cb: (error?: Error | null, packet?: Packet) => void): this;
  close(cb?: DoneCallback): void;
}

export class MqttClient {
  constructor(brokerUrl: string | IClientOptions, options?: IClientOptions);
  readonly options: IClientOptions;
  /** The stores the session is kept in, when the options gave one (else undefined). */
  incomingStore?: IStore;
  outgoingStore?: IStore;
  connected: boolean;
  reconnecting: boolean;
  disconnecting: boolean;
  disconnected: boolean;
  /** wasmqtt: why the last connection ended, if it failed. */
  lastError: MqttError | null;

  on(event: 'connect', cb: OnConnectCallback): this;
  on(event: 'message', cb: OnMessageCallback): this;
  /** A reconnection attempt starts. */
  on(event: 'reconnect', cb: (url: string) => void): this;
  /** The connection closed; wasmqtt passes why (null after end()). */
  on(event: 'close', cb: (error: MqttError | null) => void): this;
  /** Disconnected and waiting to reconnect. */
  on(event: 'offline', cb: (error: MqttError | null) => void): this;
  /** The server sent DISCONNECT (MQTT 5). */
  on(event: 'disconnect', cb: (packet: DisconnectPacket) => void): this;
  on(event: 'error', cb: (error: MqttError) => void): this;
  on(event: 'end', cb: () => void): this;
  /** wasmqtt: an MQTT 5 authentication challenge (without `handleAuth`); answer with authenticate(). */
  on(event: 'auth', cb: (challenge: { method: string; data?: Bytes }) => void): this;
  on(event: 'reauthenticated', cb: () => void): this;
  /**
   * Every packet handed to the transport / received, mqtt-packet-shaped (MQTT.js). Packets
   * cross from wasm one by one only once such a listener exists.
   */
  on(event: 'packetsend' | 'packetreceive', cb: OnPacketCallback): this;
  /** While a graceful end() waits: the last message it waited for completed (MQTT.js). */
  on(event: 'outgoingEmpty', cb: VoidCallback): this;
  once: MqttClient['on'];
  addListener: MqttClient['on'];
  prependListener: MqttClient['on'];
  prependOnceListener: MqttClient['on'];
  off(event: string, cb: (...args: any[]) => void): this;
  removeListener(event: string, cb: (...args: any[]) => void): this;
  removeAllListeners(event?: string): this;
  listenerCount(event: string): number;
  listeners(event: string): ((...args: any[]) => void)[];
  rawListeners(event: string): ((...args: any[]) => void)[];
  eventNames(): string[];
  emit(event: string, ...args: any[]): boolean;
  setMaxListeners(n: number): this;
  getMaxListeners(): number;

  /** Starts connecting (with `manualConnect`, or after `end()`). */
  connect(): this;
  /**
   * Publishes. The callback runs when written (QoS 0) or acknowledged (QoS 1, 2). While the
   * outbox is full the message waits (back-pressure) instead of failing.
   */
  publish(topic: string, message: string | Uint8Array | ArrayBuffer, opts?: IClientPublishOptions, callback?: PacketCallback): this;
  publish(topic: string, message: string | Uint8Array | ArrayBuffer, callback?: PacketCallback): this;
  publishAsync(topic: string, message: string | Uint8Array | ArrayBuffer, opts?: IClientPublishOptions): Promise<Packet | undefined>;
  subscribe(topic: string | string[] | ISubscriptionMap, opts?: IClientSubscribeOptions, callback?: ClientSubscribeCallback): this;
  subscribe(topic: string | string[] | ISubscriptionMap, callback?: ClientSubscribeCallback): this;
  subscribeAsync(topic: string | string[] | ISubscriptionMap, opts?: IClientSubscribeOptions): Promise<ISubscriptionGrant[]>;
  unsubscribe(topic: string | string[], opts?: IClientUnsubscribeProperties, callback?: PacketCallback): this;
  unsubscribe(topic: string | string[], callback?: PacketCallback): this;
  unsubscribeAsync(topic: string | string[], opts?: IClientUnsubscribeProperties): Promise<Packet | undefined>;
  /**
   * Clean DISCONNECT: no will, no reconnect; `force` skips waiting for what is in flight.
   * `opts.reasonCode` 4 asks an MQTT 5 server for the will.
   */
  end(force?: boolean, opts?: Partial<IDisconnectPacket>, callback?: DoneCallback): this;
  end(force?: boolean, callback?: DoneCallback): this;
  end(opts?: Partial<IDisconnectPacket>, callback?: DoneCallback): this;
  end(callback?: DoneCallback): this;
  endAsync(force?: boolean, opts?: Partial<IDisconnectPacket>): Promise<void>;
  endAsync(opts?: Partial<IDisconnectPacket>): Promise<void>;
  /**
   * Reconnects now (after end(), a stop, or to skip a backoff). With stores: the session is
   * kept in them from now on (a live session is written into them, replacing what they held).
   */
  reconnect(opts?: Pick<IClientOptions, 'incomingStore' | 'outgoingStore'>): this;

  /** wasmqtt: MQTT 5 request/response; resolves with the response. */
  requestAsync(topic: string, message: string | Uint8Array, opts?: { qos?: QoS; timeout?: number; properties?: PublishProperties }): Promise<PublishPacket>;
  /** wasmqtt: answers an 'auth' challenge, or starts a re-authentication. */
  authenticate(data: string | Uint8Array, reauthenticate?: boolean): void;
  /** wasmqtt: credentials for the next connections (a client stopped on bad credentials restarts). */
  setCredentials(username?: string, password?: string | Uint8Array): void;
  /** wasmqtt: sends a PINGREQ now. */
  checkLiveness(): void;
  /** wasmqtt: idle, connecting, connected, reconnecting, offline, closing or stopped. */
  readonly state: string;
  /** wasmqtt: whether deadlines run in a Worker (unthrottled in hidden tabs). */
  readonly unthrottledTimer: boolean;
  /** wasmqtt: round trip, counters and queues. */
  getMetrics(): Metrics;
  /**
   * MQTT.js's message hook: called with every incoming PUBLISH after 'message'; a QoS 1 / 2
   * message is acknowledged once `callback` is called (the broker's flow control then paces
   * delivery). An error given to the callback is reported as 'error'; the message is still
   * acknowledged (acknowledgements leave in order).
   */
  handleMessage: (packet: PublishPacket, callback: (error?: Error) => void) => void;
  /**
   * The packet identifier given last, or null. A message just published gets one now if the
   * in-flight window has room; one waiting in the outbox (offline, window full) has none yet.
   */
  getLastMessageId(): number | null;
  /**
   * Gives up on the message in flight with this identifier: its callback fails at once with
   * 'Message removed' (code REMOVED). While the session lasts MQTT still has it resent on a
   * resumed session, so it may arrive (once at most at QoS 2); it is not sent as a new message
   * if the session is lost. Queued messages have no identifier yet.
   */
  removeOutgoingMessage(messageId: number): this;
  /** wasmqtt: forgets the session stored in IndexedDB. */
  clearStoredSession(): void;
}

/** Creates a client and starts connecting (as `mqtt.connect`). */
export function connect(brokerUrl: string, options?: IClientOptions): MqttClient;
/** With no URL: `host`, `port`, `protocol`, `path` (or `servers`) name the broker, as in MQTT.js. */
export function connect(options: IClientOptions): MqttClient;

/** Resolves after CONNACK; rejects with an MqttError on refusal (`.code`: return or reason code). */
export function connectAsync(brokerUrl: string, options?: IClientOptions, allowRetries?: boolean): Promise<MqttClient>;
export function connectAsync(options: IClientOptions, allowRetries?: boolean): Promise<MqttClient>;

/** MQTT.js's `Client`, another name for MqttClient. */
export { MqttClient as Client };
