// One MQTT connection for every tab of a site: a SharedWorker holds the client, and each tab
// talks to it through a MessagePort. A broker sees one client however many tabs are open (no
// client-id takeovers between tabs, one keep-alive, one session), and a filter two tabs
// subscribe to is subscribed once.
//
// Messages from a tab: { type: 'connect', url, options } | { type: 'subscribe', filter } |
// { type: 'unsubscribe', filter } | { type: 'publish', topic, payload, qos, retain, id } |
// { type: 'bye' } (the tab is leaving: pagehide). To tabs: { type: 'state', state, tabs,
// connections, error } | { type: 'message', topic, payload, qos, retain } |
// { type: 'published', id, error } | { type: 'subscribed', filter, error } | { type: 'error', error }.
import mqtt from '../../pkg/wasmqtt.js';

const tabs = new Set();
/** filter -> the ports subscribed to it. */
const subscriptions = new Map();
let client = null;
let connections = 0; // clients made: one for the worker's life
let state = 'idle';
let lastError = null;

function broadcast(message) {
  for (const port of tabs) port.postMessage(message);
}

function announce() {
  broadcast({ type: 'state', state, tabs: tabs.size, connections, error: lastError });
}

/** MQTT topic filter matching: `+` one level, `#` the rest; `$` topics only by `$` filters [MQTT-4.7.2-1]. */
function matches(filter, topic) {
  if (topic.startsWith('$') && !filter.startsWith('$')) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

function connect(url, options) {
  if (client) return; // the first tab's connect makes the client; later tabs share it
  connections += 1;
  client = mqtt.connect(url, { clientId: `tabs-${Math.random().toString(16).slice(2, 10)}`, ...options });
  state = 'connecting';
  client.on('connect', () => { state = 'connected'; lastError = null; announce(); });
  client.on('reconnect', () => { state = 'reconnecting'; announce(); });
  client.on('offline', () => { state = 'offline'; announce(); });
  client.on('error', (err) => { lastError = `${err.kind}: ${err.message}`; announce(); });
  client.on('message', (topic, payload, packet) => {
    // Each tab once, however many of its filters match.
    const to = new Set();
    for (const [filter, ports] of subscriptions) if (matches(filter, topic)) for (const p of ports) to.add(p);
    const message = { type: 'message', topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain };
    for (const port of to) port.postMessage(message);
  });
  announce();
}

function subscribe(port, filter) {
  let ports = subscriptions.get(filter);
  if (ports) {
    ports.add(port);
    port.postMessage({ type: 'subscribed', filter, error: null });
    return;
  }
  ports = new Set([port]);
  subscriptions.set(filter, ports);
  client.subscribe(filter, { qos: 1 }, (err) => {
    if (err) subscriptions.delete(filter);
    port.postMessage({ type: 'subscribed', filter, error: err ? err.message : null });
  });
}

function unsubscribe(port, filter) {
  const ports = subscriptions.get(filter);
  if (!ports?.delete(port) || ports.size > 0) return;
  subscriptions.delete(filter); // the last tab that wanted it
  client?.unsubscribe(filter);
}

function leave(port) {
  tabs.delete(port);
  for (const filter of [...subscriptions.keys()]) unsubscribe(port, filter);
  announce();
}

onconnect = (event) => {
  const port = event.ports[0];
  tabs.add(port);
  port.onmessage = ({ data }) => {
    if (!client && data.type !== 'connect' && data.type !== 'bye') {
      port.postMessage({ type: 'error', error: `${data.type} before connect: send { type: 'connect', url } first` });
      return;
    }
    switch (data.type) {
      case 'connect': connect(data.url, data.options); break;
      case 'subscribe': subscribe(port, data.filter); break;
      case 'unsubscribe': unsubscribe(port, data.filter); break;
      case 'publish':
        client.publish(data.topic, data.payload, { qos: data.qos ?? 0, retain: !!data.retain }, (err) => {
          port.postMessage({ type: 'published', id: data.id, error: err ? err.message : null });
        });
        break;
      case 'bye': leave(port); break;
      default: port.postMessage({ type: 'error', error: `unknown request ${data.type}` });
    }
  };
  port.start();
  announce();
};
