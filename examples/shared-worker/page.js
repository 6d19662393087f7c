// A tab of the shared-connection example: it asks the SharedWorker (worker.js) to connect,
// subscribe and publish, and shows what comes back.
const $ = (id) => document.getElementById(id);
const worker = new SharedWorker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'wasmqtt-shared' });
const port = worker.port;
let nextId = 0;

port.onmessage = ({ data }) => {
  if (data.type === 'state') {
    $('state').dataset.state = data.state;
    $('state').textContent = `${data.state}: one connection (${data.connections} made) shared by ${data.tabs} tab${data.tabs === 1 ? '' : 's'}`;
    $('error').textContent = data.error ?? '';
  } else if (data.type === 'message') {
    const li = document.createElement('li');
    const topic = document.createElement('span');
    topic.className = 'topic';
    topic.textContent = data.topic;
    li.append(topic, ` ${data.payload}`);
    $('log').prepend(li);
  } else if (data.type === 'error') {
    $('error').textContent = data.error;
  } else if (data.type === 'subscribed' || data.type === 'published') {
    $('error').textContent = data.error ?? '';
    if (data.type === 'subscribed' && !data.error) $('subscribed').textContent = `subscribed to ${data.filter}`;
  }
};
port.start();

const broker = new URLSearchParams(location.search).get('broker') ?? 'ws://127.0.0.1:9001/mqtt';
port.postMessage({ type: 'connect', url: broker, options: { protocolVersion: 5 } });

$('subscribe').addEventListener('submit', (e) => {
  e.preventDefault();
  port.postMessage({ type: 'subscribe', filter: e.target.filter.value });
});
$('publish').addEventListener('submit', (e) => {
  e.preventDefault();
  const f = e.target;
  port.postMessage({ type: 'publish', topic: f.topic.value, payload: f.payload.value, qos: 1, id: nextId++ });
});
// The worker cannot tell that a tab closed: say so, so its subscriptions go.
addEventListener('pagehide', () => port.postMessage({ type: 'bye' }));
