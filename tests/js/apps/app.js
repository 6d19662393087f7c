// A tiny MQTT.js-style page, built by each bundler in bundlers.test.mjs: it connects to the broker
// in `?broker=`, subscribes, publishes at QoS 1 and shows what came back in `window.result`; the
// codec entry (its own module) re-encodes the received packet, as an mqtt-packet user would.
import mqtt from 'wasmqtt';
import { init as initCodec, encodePacket, decodePacket } from 'wasmqtt/codec';

const params = new URLSearchParams(location.search);
const topic = `bundlers/${params.get('name')}/${Math.random().toString(16).slice(2)}`;
const client = mqtt.connect(params.get('broker'), { clientId: `bundler-${params.get('name')}`, protocolVersion: 5 });
client.on('error', (err) => { window.result = { error: `${err.kind}: ${err.message}` }; });
client.on('message', async (t, payload, packet) => {
  try {
    await initCodec();
    const again = decodePacket(encodePacket(packet, 5), 5);
    window.result = { topic: t === topic, text: payload.toString(), qos: packet.qos, codec: again.topic === t && again.messageId === packet.messageId };
  } catch (e) {
    window.result = { error: `codec: ${e}` };
  }
  client.end();
});
client.on('connect', async () => {
  await client.subscribeAsync(topic, { qos: 1 });
  await client.publishAsync(topic, `hello from ${params.get('name')}`, { qos: 1 });
});
