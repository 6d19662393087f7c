// MQTT.js code as its users write it in TypeScript, checked with `tsc --strict` twice by
// bundlers.test.mjs: importing 'mqtt' (so it is MQTT.js code) and, with only the import changed,
// 'wasmqtt'; the second build then runs in Chromium against mosquitto.
import mqtt from 'mqtt';
import type {
  IClientOptions, IClientPublishOptions, IClientSubscribeOptions, ISubscriptionGrant, ISubscriptionMap,
  IConnackPacket, IPublishPacket, IDisconnectPacket, OnMessageCallback, OnErrorCallback, Packet,
  ClientSubscribeCallback, PacketCallback, MqttClient, ErrorWithReasonCode,
} from 'mqtt';

declare global {
  interface Window { result?: unknown }
}

const params = new URLSearchParams(location.search);
const topic = `bundlers/${params.get('name') ?? 'tsc'}/${Math.random().toString(16).slice(2)}`;

const options: IClientOptions = {
  clientId: `tsc-${Math.random().toString(16).slice(2, 8)}`,
  protocolVersion: 5,
  clean: true,
  keepalive: 30,
  reconnectPeriod: 1000,
  connectTimeout: 10_000,
  will: { topic: `${topic}/status`, payload: 'offline', qos: 1, retain: false },
  properties: { sessionExpiryInterval: 0, receiveMaximum: 100 },
};

const client: MqttClient = mqtt.connect(params.get('broker') ?? 'ws://127.0.0.1:9001/mqtt', options);

const onError: OnErrorCallback = (err: Error | ErrorWithReasonCode) => {
  window.result = { error: err.message };
};
client.on('error', onError);
client.on('connect', (connack: IConnackPacket) => {
  void start(connack.sessionPresent);
});
client.on('disconnect', (packet: IDisconnectPacket) => console.log('server disconnect', packet.reasonCode));
client.on('close', () => console.log('closed'));
client.on('offline', () => console.log('offline'));
client.on('reconnect', () => console.log('reconnecting'));
client.on('end', () => console.log('ended'));

const onMessage: OnMessageCallback = (t: string, payload, packet: IPublishPacket) => {
  if (t !== topic) return;
  window.result = { topic: true, text: payload.toString(), qos: packet.qos, retain: packet.retain };
};
client.on('message', onMessage);

async function start(sessionPresent: boolean): Promise<void> {
  const subOptions: IClientSubscribeOptions = { qos: 1, nl: false, rap: false, rh: 0 };
  const granted: ISubscriptionGrant[] = await client.subscribeAsync(topic, subOptions);
  const qos = granted.map((g) => g.qos);
  const more: ISubscriptionMap = { [`${topic}/a`]: { qos: 0 }, [`${topic}/b`]: { qos: 2 } };
  const onSubscribed: ClientSubscribeCallback = (err, grants) => {
    if (err) console.error(err.message);
    else console.log('subscribed', grants?.map((g) => g.topic), qos, sessionPresent);
  };
  client.subscribe(more, onSubscribed);
  const publishOptions: IClientPublishOptions = { qos: 1, retain: false, properties: { contentType: 'text/plain' } };
  const sent: PacketCallback = (err?: Error, packet?: Packet) => {
    if (err) console.error(err.message);
    else if (packet) console.log('acknowledged', packet.cmd);
  };
  client.publish(`${topic}/a`, 'first', { qos: 0 }, sent);
  const ack: Packet | undefined = await client.publishAsync(topic, `hello from ${params.get('name') ?? 'tsc'}`, publishOptions);
  console.log('puback', ack?.cmd, client.connected, client.reconnecting, client.disconnecting, client.getLastMessageId());
  await client.unsubscribeAsync([`${topic}/a`, `${topic}/b`]);
  client.end(false, {}, () => console.log('done'));
}
