// The batch property of the reliability issue (part 2), shared by the Chromium and the Node
// tests: a fake broker sends n PUBLISHes in WebSocket frames of 1 to 60 (one frame is one batch
// of events), and the client's 'message' handlers, chosen per message by a seeded generator,
// publish a large payload (wasm memory grows mid-batch), publish and subscribe from inside the
// handler (re-entry), throw, or do nothing. Every message must arrive once, in order, with its
// own topic; the handlers' errors must be reported, not swallowed.

import { createServer } from 'node:http';
import mqttPacket from 'mqtt-packet';
import { WebSocketServer } from 'ws';

/** Starts the fake broker for `seed`: its URL, the messages in the order sent, and close(). */
export async function batchBroker(seed, n = 300) {
  const sent = [];
  const frames = [];
  let frame = [];
  for (let i = 0; i < n; i++) {
    const topic = `batch/${i % 37}/${i}`;
    sent.push(`${topic}=m${i}`);
    frame.push(mqttPacket.generate({ cmd: 'publish', topic, payload: Buffer.from(`m${i}`), qos: 0, retain: false, dup: false }, { protocolVersion: 5 }));
    if (frame.length === 1 + ((i * 7 + seed) % 60)) {
      frames.push(Buffer.concat(frame));
      frame = [];
    }
  }
  if (frame.length) frames.push(Buffer.concat(frame));
  const http = createServer();
  const wss = new WebSocketServer({ server: http, handleProtocols: () => 'mqtt' });
  wss.on('connection', (ws) => {
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    const send = (p) => ws.send(mqttPacket.generate(p, { protocolVersion: 5 }));
    parser.on('packet', (p) => {
      if (p.cmd === 'connect') send({ cmd: 'connack', sessionPresent: false, reasonCode: 0 });
      else if (p.cmd === 'subscribe') {
        send({ cmd: 'suback', messageId: p.messageId, granted: p.subscriptions.map(() => 0) });
        if (p.subscriptions[0].topic === 'batch/#') for (const f of frames) ws.send(f);
      } else if (p.cmd === 'publish' && p.qos === 1) send({ cmd: 'puback', messageId: p.messageId, reasonCode: 0 });
      else if (p.cmd === 'pingreq') send({ cmd: 'pingresp' });
    });
    ws.on('message', (data) => parser.parse(data));
  });
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  return {
    url: `ws://127.0.0.1:${http.address().port}/mqtt`,
    sent,
    close: () => { wss.close(); http.close(); },
  };
}

/**
 * The client's side: connects, subscribes, handles messages as described above and resolves
 * with what arrived (after n messages or 20 s). Self-contained, so a page can run it too
 * (`page.evaluate(driveBatches, ...)`, with the package as `window.wasmqtt`).
 */
export async function driveBatches({ url, seed, n }, lib) {
  const wasmqtt = lib ?? globalThis.wasmqtt;
  let s = seed;
  const rand = () => { s = (s * 1103515245 + 12345) >>> 0; return (s >>> 8) % 100; };
  const got = [];
  const c = await wasmqtt.connectAsync(url, { clientId: 'reenter-' + seed, protocolVersion: 5 });
  c.on('message', (topic, payload) => {
    got.push(topic + '=' + new TextDecoder().decode(payload));
    const r = rand();
    if (r < 8) c.publish('sink/big', new Uint8Array(1_000_000 + r * 500_000), { qos: 0 });
    else if (r < 20) c.publish('sink/small', 'x'.repeat(r * 100), { qos: 1 });
    else if (r < 28) c.subscribe('sub/' + r, { qos: 1 });
    else if (r < 40) throw new Error('handler ' + topic);
  });
  await c.subscribeAsync('batch/#', { qos: 0 });
  const deadline = Date.now() + 20000;
  while (got.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await c.endAsync(true);
  return got;
}
