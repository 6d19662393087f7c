// The example page's script (a file of its own: the page's Content-Security-Policy runs
// scripts from this origin only).
import mqtt from '../../pkg/wasmqtt.js';

const $ = (id) => document.getElementById(id);
const decoder = new TextDecoder();
const broker = new URLSearchParams(location.search).get('broker');
if (broker) document.forms.connect.url.value = broker;
let client = null;

const setState = (state, text) => {
  $('state').dataset.state = state;
  $('state').textContent = text;
};

$('connect').addEventListener('submit', (e) => {
  e.preventDefault();
  client?.end(true);
  const f = e.target;
  client = mqtt.connect(f.url.value, {
    protocolVersion: Number(f.version.value),
    clientId: 'example-' + Math.random().toString(16).slice(2, 8),
    keepalive: 20,
    reconnectPeriod: 1000,
  });
  setState('connecting', 'connecting…');
  client.on('connect', () => { setState('connected', 'connected'); $('error').textContent = ''; });
  client.on('reconnect', () => setState('connecting', 'reconnecting…'));
  client.on('offline', () => setState('offline', 'offline'));
  // Errors carry a kind, a reason code and a readable message.
  client.on('error', (err) => { $('error').textContent = `${err.kind}: ${err.message}`; });
  client.on('message', (topic, payload, packet) => {
    const li = document.createElement('li');
    const t = document.createElement('span');
    t.className = 'topic';
    t.textContent = topic; // text, never HTML
    li.append(t, ` ${packet.retain ? '(retained) ' : ''}`, decoder.decode(payload));
    $('messages').prepend(li);
    while ($('messages').children.length > 200) $('messages').lastChild.remove();
  });
});

$('subscribe').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const granted = await client.subscribeAsync(e.target.topic.value, { qos: 1 });
    $('error').textContent = `subscribed: ${granted.map((g) => `${g.topic} (QoS ${g.qos})`).join(', ')}`;
  } catch (err) {
    $('error').textContent = `${err.kind ?? 'error'}: ${err.message}`;
  }
});

$('publish').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.target;
  try {
    // Resolves when the QoS flow completes (PUBACK / PUBCOMP).
    await client.publishAsync(f.topic.value, f.payload.value, { qos: Number(f.qos.value) });
  } catch (err) {
    $('error').textContent = `${err.kind ?? 'error'}: ${err.message}`;
  }
});

window.exampleReady = true;
