// The browser benchmark: wasmqtt and MQTT.js side by side in one headless-Chromium run, against
// one local mosquitto, with the ceilings measured in the same run (a plain WebSocket, and a
// minimal no-library MQTT reader/writer). `cargo xtask bench` runs it after building pkg/.
//
// Chromium is driven over raw CDP (Runtime, Performance, HeapProfiler only): Playwright's page API
// would turn on DevTools network tracking, which halves WebSocket throughput in that page. Each
// library runs in a fresh tab, one at a time; every workload is repeated and the median kept.

import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import mqttPacket from 'mqtt-packet';
import { startMosquitto, serveStatic, sleep } from '../env.mjs';
import { startChromium } from './cdp.mjs';
import { repoRoot } from '../browser.mjs';
import { fileURLToPath } from 'node:url';

// The build measured (WASMQTT_PKG: another build, to compare).
const pkgDir = process.env.WASMQTT_PKG ? process.env.WASMQTT_PKG.replace(/\/?$/, '/') : fileURLToPath(new URL('../../../pkg/', import.meta.url));

const REPS = Number(process.env.BENCH_REPS ?? 3);
// BENCH_PROTOCOL=4: wasmqtt and MQTT.js speak MQTT 3.1.1 (no Receive Maximum: each library's own
// in-flight window decides); the raw anchors stay on 5.
const PROTOCOL = Number(process.env.BENCH_PROTOCOL ?? 5);
const N_QOS0 = 100_000;
const N_QOS1 = 20_000;
const N_QOS2 = 10_000;
const N_RTT = 2_000;
const PAYLOAD = 'x'.repeat(64);
const wallNow = () => performance.timeOrigin + performance.now();

// ---- TCP clients in Node: a flooding publisher and a counting subscriber -------------------------

async function tcpClient(port, clientId) {
  const socket = netConnect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise((ok, fail) => { socket.once('connect', ok); socket.once('error', fail); });
  const onPacket = [];
  let carry = Buffer.alloc(0);
  let connack;
  const connected = new Promise((ok) => { connack = ok; });
  socket.on('data', (d) => {
    let b = carry.length ? Buffer.concat([carry, d]) : d;
    let i = 0;
    for (;;) {
      if (b.length - i < 2) break;
      let j = i + 1;
      let len = 0;
      let mul = 1;
      let done = false;
      while (j < b.length) {
        const x = b[j++];
        len += (x & 127) * mul;
        mul *= 128;
        if (!(x & 128)) { done = true; break; }
      }
      if (!done || j + len > b.length) break;
      const type = b[i] >> 4;
      if (type === 2) connack();
      for (const f of onPacket) f(type, b, j, len);
      i = j + len;
    }
    carry = b.subarray(i);
    if (carry.length) carry = Buffer.from(carry);
  });
  socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, keepalive: 0, clientId }, { protocolVersion: 5 }));
  await connected;
  return { socket, onPacket, end: () => socket.destroy() };
}

/** Publishes `n` QoS 0 messages to `topic` in one write. */
async function flood(port, topic, n) {
  const c = await tcpClient(port, `flood-${Math.random().toString(36).slice(2, 8)}`);
  const one = mqttPacket.generate({ cmd: 'publish', topic, payload: Buffer.from(PAYLOAD), qos: 0, retain: false, dup: false }, { protocolVersion: 5 });
  const all = Buffer.alloc(one.length * n);
  for (let k = 0; k < n; k++) one.copy(all, k * one.length);
  c.socket.write(all);
  return { packetBytes: one.length, end: c.end };
}

/** Subscribes to `topic` and counts PUBLISH packets, remembering when the last one came. */
async function counter(port, topic) {
  const c = await tcpClient(port, `count-${Math.random().toString(36).slice(2, 8)}`);
  let count = 0;
  let last = 0;
  let suback;
  const subscribed = new Promise((ok) => { suback = ok; });
  c.onPacket.push((type) => {
    if (type === 3) {
      count += 1;
      last = wallNow();
    } else if (type === 9) suback();
  });
  c.socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 0 }] }, { protocolVersion: 5 }));
  await subscribed;
  return {
    /** Resolves once `n` arrived or nothing new came for `idleMs`. */
    async wait(n, idleMs) {
      let seen = -1;
      let since = Date.now();
      while (count < n) {
        if (count !== seen) { seen = count; since = Date.now(); }
        if (Date.now() - since > idleMs) break;
        await sleep(20);
      }
      return { count, last };
    },
    end: c.end,
  };
}

// ---- workloads -------------------------------------------------------------------------------

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function withTab(env, lib, fn) {
  const tab = await env.chrome.tab(`${env.server.url}/tests/js/bench/pages/bench.html?lib=${lib}&v=${PROTOCOL}`);
  try {
    await tab.eval(`bench.connect(${JSON.stringify(env.mosq.ws)})`);
    const profiling = await startProfile(tab, lib);
    const r = await fn(tab);
    if (profiling) await printProfile(tab, lib);
    return r;
  } finally {
    await tab.eval('bench.end()').catch(() => {});
    await tab.close();
  }
}

let topicSeq = 0;
const freshTopic = (what) => `bench/${what}/${++topicSeq}`;

const WORKLOADS = {
  /** QoS 0 messages into the page: msg/s (first to last arrival) and main-thread CPU per message. */
  async receive0(env, lib) {
    return withTab(env, lib, async (tab) => {
      const topic = freshTopic('recv');
      const one = mqttPacket.generate({ cmd: 'publish', topic, payload: Buffer.from(PAYLOAD), qos: 0, retain: false, dup: false }, { protocolVersion: 5 }).length;
      const expected = lib === 'plain' ? N_QOS0 * one : N_QOS0;
      await tab.eval(`bench.prepareReceive(${JSON.stringify(topic)}, ${expected})`);
      const heapBefore = await tab.heap();
      const m0 = await tab.metrics();
      const f = await flood(env.mosq.tcpPort, topic, N_QOS0);
      const r = await tab.eval('bench.awaitReceive(3000)');
      const m1 = await tab.metrics();
      f.end();
      const delivered = lib === 'plain' ? Math.floor(r.count / one) : r.count;
      const heapAfter = await tab.heap();
      const wasm = lib === 'wasmqtt' ? await tab.eval('window.wasmMemoryBytes()') : 0;
      return {
        rate: (delivered / (r.last - r.first)) * 1000,
        delivered,
        cpuUs: ((m1.TaskDuration - m0.TaskDuration) * 1e6) / delivered,
        heapBefore,
        heapAfter,
        wasm,
      };
    });
  },

  /** A burst of QoS 0 publishes from the page: msg/s until the last arrives at a subscriber. */
  async publish0(env, lib) {
    const sub = await counter(env.mosq.tcpPort, 'bench/pub0/#');
    try {
      return await withTab(env, lib, async (tab) => {
        const topic = freshTopic('pub0');
        const m0 = await tab.metrics();
        const r = await tab.eval(`bench.burst(${JSON.stringify(topic)}, ${JSON.stringify(PAYLOAD)}, ${N_QOS0})`);
        const got = await sub.wait(N_QOS0, 3000);
        const m1 = await tab.metrics();
        return {
          rate: (got.count / (got.last - r.start)) * 1000,
          delivered: got.count,
          cpuUs: ((m1.TaskDuration - m0.TaskDuration) * 1e6) / Math.max(1, got.count),
        };
      });
    } finally {
      sub.end();
    }
  },

  async publish1(env, lib) {
    return publishQos(env, lib, 1, N_QOS1);
  },

  async publish2(env, lib) {
    return publishQos(env, lib, 2, N_QOS2);
  },

  /** QoS 1 publish to PUBACK, one at a time. */
  async rtt1(env, lib) {
    return withTab(env, lib, async (tab) => {
      const topic = freshTopic('rtt');
      return tab.eval(`bench.roundTrips(${JSON.stringify(topic)}, ${JSON.stringify(PAYLOAD)}, ${N_RTT}, 200)`);
    });
  },
};

/** BENCH_PROFILE=<lib>[,<lib>...] prints where that library's main thread spends its time. */
async function startProfile(tab, lib) {
  if (!(process.env.BENCH_PROFILE ?? '').split(',').includes(lib)) return false;
  await tab.cdp.send('Profiler.enable');
  await tab.cdp.send('Profiler.setSamplingInterval', { interval: 100 });
  await tab.cdp.send('Profiler.start');
  return true;
}

async function printProfile(tab, lib) {
  const { profile } = await tab.cdp.send('Profiler.stop');
  const self = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  let total = 0;
  for (const [id, c] of counts) {
    const n = byId.get(id);
    const name = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`;
    if (n.callFrame.functionName === '(idle)') continue;
    self.set(name, (self.get(name) ?? 0) + c);
    total += c;
  }
  console.error(`profile of ${lib} (self samples, ${total} busy):`);
  for (const [name, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    console.error(`  ${((c / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
  }
  // Inclusive: a sample counts once for every function on its stack (what a call costs in all).
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map();
  for (const [id, c] of counts) {
    if (byId.get(id).callFrame.functionName === '(idle)') continue;
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at).callFrame;
      const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
      if (seen.has(name)) continue;
      seen.add(name);
      incl.set(name, (incl.get(name) ?? 0) + c);
    }
  }
  console.error(`profile of ${lib} (inclusive):`);
  for (const [name, c] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.error(`  ${((c / total) * 100).toFixed(1).padStart(5)}%  ${name.slice(0, 160)}`);
  }
}

/** `n` QoS 1 or 2 publishes issued at once: msg/s until every flow completed. */
async function publishQos(env, lib, qos, n) {
  return withTab(env, lib, async (tab) => {
    const topic = freshTopic(`pub${qos}`);
    const m0 = await tab.metrics();
    const r = await tab.eval(`bench.publishAll(${JSON.stringify(topic)}, ${JSON.stringify(PAYLOAD)}, ${n}, ${qos})`);
    const m1 = await tab.metrics();
    return { rate: (n / r.ms) * 1000, delivered: n, cpuUs: ((m1.TaskDuration - m0.TaskDuration) * 1e6) / n };
  });
}

const PLAN = [
  ['receive0', ['plain', 'mini', 'wasmqtt', 'mqttjs']],
  ['publish0', ['plain', 'mini', 'wasmqtt', 'mqttjs']],
  ['publish1', ['mini', 'wasmqtt', 'wasmqttp', 'mqttjs']],
  ['publish2', ['mini', 'wasmqtt', 'mqttjs']],
  ['rtt1', ['mini', 'wasmqtt', 'mqttjs']],
];

// ---- main ------------------------------------------------------------------------------------

function sizes(files) {
  let raw = 0;
  let gz = 0;
  for (const f of files) {
    const b = readFileSync(f);
    raw += b.length;
    gz += gzipSync(b, { level: 9 }).length;
  }
  return { raw, gz };
}

const fmtRate = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M/s` : `${(x / 1e3).toFixed(1)} k/s`);
const kb = (x) => `${(x / 1024).toFixed(1)} KB`;

async function main() {
  const only = process.argv.slice(2);
  const mosq = await startMosquitto({ extra: 'max_inflight_messages 0\nmax_queued_messages 0\nmemory_limit 0' });
  // Cross-origin isolation gives the page a 5 µs clock instead of 100 µs (round trips are ~0.1 ms).
  const server = await serveStatic({}, undefined, {
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-embedder-policy': 'require-corp',
  });
  const chrome = await startChromium();
  const env = { mosq, server, chrome };
  const results = {};
  try {
    console.log(`${chrome.version}, ${cpus().length} cores (${cpus()[0].model}); mosquitto on loopback; ${PROTOCOL === 5 ? "MQTT 5.0" : "MQTT 3.1.1 (the libraries; the raw anchors 5.0)"}; ` +
      `64 B payloads; median of ${REPS} runs, each library in a fresh tab, driven over raw CDP\n`);
    for (const [workload, libs] of PLAN) {
      if (only.length && !only.includes(workload)) continue;
      results[workload] = {};
      for (let rep = 0; rep < REPS; rep++) {
        // Rotate the order so no library always runs first or last.
        const order = libs.map((_, k) => libs[(k + rep) % libs.length]);
        for (const lib of order) {
          const r = await WORKLOADS[workload](env, lib);
          (results[workload][lib] ??= []).push(r);
          process.stderr.write(`  ${workload} ${lib} run ${rep + 1}: ${JSON.stringify(r, (k, v) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v))}\n`);
        }
      }
    }
  } finally {
    await chrome.close();
    await server.close();
    await mosq.close();
  }
  report(results);
}

function report(results) {
  const pick = (w, lib, key) => {
    const runs = results[w]?.[lib];
    return runs ? median(runs.map((r) => r[key])) : undefined;
  };
  const row = (label, cells) => console.log(label.padEnd(34) + cells.map((c) => String(c ?? '-').padStart(14)).join(''));
  row('', ['plain WS', 'minimal MQTT', 'wasmqtt', 'MQTT.js', 'wasmqtt/MQTT.js', 'wasmqtt/ceiling']);
  const names = { receive0: 'QoS 0 receive (100k)', publish0: 'QoS 0 publish burst (100k)', publish1: 'QoS 1 publish (20k)', publish2: 'QoS 2 publish (10k)' };
  for (const w of ['receive0', 'publish0', 'publish1', 'publish2']) {
    if (!results[w]) continue;
    const [p, m, wq, mj] = ['plain', 'mini', 'wasmqtt', 'mqttjs'].map((l) => pick(w, l, 'rate'));
    const ceiling = w === 'receive0' ? p : m;
    row(`${names[w]} msg/s`, [p && fmtRate(p), m && fmtRate(m), fmtRate(wq), fmtRate(mj), `${(wq / mj).toFixed(2)}x`, `${((wq / ceiling) * 100).toFixed(0)}%`]);
    const [dp, dm, dw, dj] = ['plain', 'mini', 'wasmqtt', 'mqttjs'].map((l) => pick(w, l, 'delivered'));
    row('  delivered', [dp, dm, dw, dj]);
    const [cp, cm, cw, cj] = ['plain', 'mini', 'wasmqtt', 'mqttjs'].map((l) => pick(w, l, 'cpuUs'));
    const f = (x) => (x === undefined ? undefined : `${x.toFixed(2)} µs`);
    row('  main-thread CPU per message', [f(cp), f(cm), f(cw), f(cj), `${(cw / cj).toFixed(2)}x`]);
  }
  if (results.publish1?.wasmqttp) {
    const [r, c] = ['rate', 'cpuUs'].map((k) => pick('publish1', 'wasmqttp', k));
    const [rw, cw] = ['rate', 'cpuUs'].map((k) => pick('publish1', 'wasmqtt', k));
    row('QoS 1 publish, persistent session', [undefined, undefined, fmtRate(r), undefined, `${(r / rw).toFixed(2)}x of wasmqtt`]);
    row('  main-thread CPU per message', [undefined, undefined, `${c.toFixed(2)} µs`, undefined, `${(c / cw).toFixed(2)}x of wasmqtt`]);
  }
  if (results.rtt1) {
    for (const q of ['p50', 'p99']) {
      const [m, wq, mj] = ['mini', 'wasmqtt', 'mqttjs'].map((l) => pick('rtt1', l, q));
      row(`QoS 1 round trip ${q}`, [undefined, `${m.toFixed(3)} ms`, `${wq.toFixed(3)} ms`, `${mj.toFixed(3)} ms`, `${(wq / mj).toFixed(2)}x`, `${(wq / m).toFixed(2)}x`]);
    }
  }
  if (results.receive0) {
    const [hw, hj, hm, hp] = ['wasmqtt', 'mqttjs', 'mini', 'plain'].map((l) => pick('receive0', l, 'heapBefore'));
    row('JS heap after connect', [kb(hp), kb(hm), kb(hw), kb(hj), `${(hw / hj).toFixed(2)}x`]);
    const [aw, aj, am, ap] = ['wasmqtt', 'mqttjs', 'mini', 'plain'].map((l) => pick('receive0', l, 'heapAfter'));
    row('JS heap after 100k received', [kb(ap), kb(am), kb(aw), kb(aj), `${(aw / aj).toFixed(2)}x`]);
    row('  + wasm linear memory', [undefined, undefined, kb(pick('receive0', 'wasmqtt', 'wasm'))]);
  }
  const ours = sizes([join(pkgDir, 'wasmqtt.js'), join(pkgDir, 'wasmqtt_core_bg.wasm')]);
  const theirs = sizes([join(repoRoot, 'tests/js/node_modules/mqtt/dist/mqtt.min.js')]);
  row('bytes the page loads (raw)', [undefined, undefined, kb(ours.raw), kb(theirs.raw), `${(ours.raw / theirs.raw).toFixed(2)}x`]);
  row('bytes the page loads (gzip -9)', [undefined, undefined, kb(ours.gz), kb(theirs.gz), `${(ours.gz / theirs.gz).toFixed(2)}x`]);
}

await main();
