// A dedicated module Worker running the client (workers.test.mjs): connects with a persistent
// session, round-trips a QoS 1 message and reports what it saw, with the IndexedDB databases its
// scope has (the session is stored in the Worker's IndexedDB, as in a page's).
import mqtt from '/pkg/wasmqtt.js';

onmessage = ({ data: { broker, topic } }) => {
  const client = mqtt.connect(broker, {
    clientId: `worker-${Math.random().toString(16).slice(2, 10)}`,
    protocolVersion: 5,
    clean: false,
    properties: { sessionExpiryInterval: 300 },
  });
  client.on('error', (err) => postMessage({ error: `${err.kind}: ${err.message}` }));
  client.on('message', async (t, payload, packet) => {
    // The session is saved before a QoS 1 publish is sent: it is there by now.
    const databases = (await indexedDB.databases()).map((d) => d.name);
    postMessage({ topic: t === topic, text: payload.toString(), qos: packet.qos, databases });
    client.end();
  });
  client.on('connect', async () => {
    await client.subscribeAsync(topic, { qos: 1 });
    await client.publishAsync(topic, 'from a worker', { qos: 1 });
  });
};
