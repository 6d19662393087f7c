// The simulated fleet over a 3-node rmqtt cluster (rmqtt's raft plugin), as large as this machine
// holds: how long the devices take to connect, how they spread over the nodes (rmqtt's own $SYS
// figures), each process's CPU and memory over a steady window, and how much of the telemetry a
// consumer receives through a shared subscription over two nodes (the way a dashboard fleet
// would split the load).
//
//   node tests/js/bench/cluster.bench.mjs [devices] [interval-ms] [seconds]
// (`cargo xtask bench-cluster` runs it; WASMQTT_FLEET as for the tests.)

import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import mqtt from 'mqtt';
import { startCluster, sleep } from '../env.mjs';

const DEVICES = Number(process.argv[2] ?? 30_000);
const INTERVAL = Number(process.argv[3] ?? 10_000);
const SECONDS = Number(process.argv[4] ?? 60);
const TICK = 100; // clock ticks per second (/proc/[pid]/stat, Linux's USER_HZ)

function usage(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(f[11]) + Number(f[12])) / TICK; // utime + stime, seconds
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024; // MB
    return { cpu, rss };
  } catch {
    return null;
  }
}

/** A client on the first node from `first` on that takes it: a node whose process is out of
 * file descriptors (ulimit -n) no longer accepts connections. */
async function anyNode(cluster, first, clientId) {
  const n = cluster.nodes.length;
  for (let i = 0; i < n; i++) {
    const node = cluster.nodes[(first + i) % n];
    try {
      const c = await mqtt.connectAsync(node.mqtt, { protocolVersion: 5, clientId, reconnectPeriod: 0, connectTimeout: 10_000 });
      console.log(`  ${clientId} on node ${node.id}`);
      return c;
    } catch (e) {
      console.log(`  ${clientId}: node ${node.id} refused (${e.message}); trying the next`);
    }
  }
  throw new Error(`${clientId}: no node accepted a connection`);
}

async function main() {
  console.log(`cluster scale: 3 nodes, ${DEVICES} devices, one telemetry message each every ${INTERVAL} ms ` +
    `(~${Math.round((DEVICES * 1000) / INTERVAL)} msg/s); ${cpus().length} cores (${cpus()[0].model}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB`);
  const t0 = Date.now();
  const cluster = await startCluster({ nodes: 3, devices: DEVICES, intervalMs: INTERVAL });
  const stats = new Map();
  const watcher = await anyNode(cluster, 0, 'bench-watch');
  watcher.on('message', (topic, payload) => {
    try { stats.set(topic.split('/')[2], JSON.parse(payload)); } catch {}
  });
  await watcher.subscribeAsync('$SYS/brokers/+/stats');
  const connections = () => [...stats.values()].reduce((a, s) => a + (s['connections.count'] ?? 0), 0);
  // Connected: the nodes' own count (less this watcher) reaches the fleet, or stops growing.
  let last = -1;
  let flat = 0;
  for (;;) {
    await sleep(5000);
    const c = connections() - 1;
    console.log(`  +${((Date.now() - t0) / 1000).toFixed(0)} s: ${c} connections (${[...stats.entries()].map(([n, s]) => `node ${n}: ${s['connections.count']}`).join(', ')})`);
    if (c >= DEVICES) break;
    flat = c === last ? flat + 1 : 0;
    last = c;
    if (flat >= 6) { console.log(`  connections stopped growing at ${c} of ${DEVICES}`); break; }
  }
  const connectedAfter = (Date.now() - t0) / 1000;
  // Two consumers in one shared group, on nodes 2 and 3: each message to one of them.
  const got = [0, 0];
  const consumers = [];
  for (const k of [0, 1]) {
    const c = await anyNode(cluster, k + 1, `bench-consumer-${k}`);
    c.on('message', () => { got[k]++; });
    await c.subscribeAsync('$share/bench/devices/+/telemetry', { qos: 0 });
    consumers.push(c);
  }
  await sleep(3000);
  const pids = [...cluster.nodes.map((n, i) => [`node ${i + 1}`, n.pid]), ...cluster.fleets.map((f, i) => [`devices ${i + 1}`, f.pid])];
  const before = new Map(pids.map(([name, pid]) => [name, usage(pid)]));
  got[0] = got[1] = 0;
  const start = Date.now();
  await sleep(SECONDS * 1000);
  const secs = (Date.now() - start) / 1000;
  const rows = pids.map(([name, pid]) => {
    const a = before.get(name);
    const b = usage(pid);
    return b && a ? `| ${name} | ${(((b.cpu - a.cpu) / secs) * 100).toFixed(0)}% | ${b.rss.toFixed(0)} MB |` : `| ${name} | gone | |`;
  });
  const rate = (got[0] + got[1]) / secs;
  console.log(`\nconnected: ${connections() - 3} of ${DEVICES} after ${connectedAfter.toFixed(0)} s`);
  console.log(`per node: ${[...stats.entries()].map(([n, s]) => `node ${n}: ${s['connections.count']} connections, ${s['sessions.count']} sessions, ${s['subscriptions.count']} subscriptions`).join('; ')}`);
  console.log(`telemetry through the shared subscription: ${rate.toFixed(0)} msg/s of ~${Math.round((DEVICES * 1000) / INTERVAL)} expected (split ${got[0]} / ${got[1]})`);
  console.log(`\nover ${secs.toFixed(0)} s (CPU: share of one core):\n| process | CPU | RSS |\n|---|---|---|\n${rows.join('\n')}`);
  for (const c of consumers) await c.endAsync();
  await watcher.endAsync();
  await cluster.close();
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
