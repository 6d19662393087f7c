// A tiny MQTT.js-style page, built by each bundler in bundlers.test.mjs: it connects to the broker
// in `?broker=`, subscribes, publishes at QoS 1 and shows what came back in `window.result`.
import mqtt from 'wasmqtt';

const params = new URLSearchParams(location.search);
const topic = `bundlers/${params.get('name')}/${Math.random().toString(16).slice(2)}`;
const client = mqtt.connect(params.get('broker'), { clientId: `bundler-${params.get('name')}`, protocolVersion: 5 });
client.on('error', (err) => { window.result = { error: `${err.kind}: ${err.message}` }; });
client.on('message', (t, payload, packet) => {
  window.result = { topic: t === topic, text: payload.toString(), qos: packet.qos };
  client.end();
});
client.on('connect', async () => {
  await client.subscribeAsync(topic, { qos: 1 });
  await client.publishAsync(topic, `hello from ${params.get('name')}`, { qos: 1 });
});
