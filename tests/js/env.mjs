// What the page-level tests need, started and stopped by the tests themselves, all on loopback:
// mosquitto (TCP and WebSocket, optionally TLS), aedes (a second, independent broker), a TCP
// proxy that can stall or cut the link, a static server, and headless Chromium.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { createServer as netServer, connect as netConnect } from 'node:net';
import { createServer as httpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { serveStatic, CHROMIUM } from './browser.mjs';

export { removeProfile } from './browser.mjs';

// Every process a test starts is killed when the test file's process exits, however it exits (a
// failed clean-up, `--test-force-exit`): a broker left behind would outlive the run, or keep the
// event loop alive and hang CI.
const children = new Set();
process.on('exit', () => {
  for (const p of children) {
    try { p.kill('SIGKILL'); } catch {}
  }
});

/** Registers a child process to be killed when this process exits; returns it. */
export function track(proc) {
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  return proc;
}

export { serveStatic };

// Ports for servers are taken below the kernel's ephemeral range: a port from that range (what
// `listen(0)` gives) can be handed out again, before our server binds it, as the source port of an
// outgoing connection, and a cluster node that dials a peer not yet listening takes a new one on
// every retry. Below the range, only another listener can take it; the ports given out here are
// remembered so one process never gives the same port twice.
const EPHEMERAL_LOW = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
})();
const FIRST_PORT = 10_000;
const given = new Set();

function anyFreePort() {
  return new Promise((resolve) => {
    const s = netServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A port free on 127.0.0.1 now, below the ephemeral range, not given before by this process. */
export async function freePort() {
  if (EPHEMERAL_LOW - FIRST_PORT < 1000) return anyFreePort();
  for (;;) {
    const port = FIRST_PORT + Math.floor(Math.random() * (EPHEMERAL_LOW - FIRST_PORT));
    if (given.has(port)) continue;
    const free = await new Promise((resolve) => {
      const s = netServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) {
      given.add(port);
      return port;
    }
  }
}

async function waitForPort(port, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const c = netConnect(port, '127.0.0.1');
      c.on('connect', () => { c.destroy(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

/** A self-signed certificate for 127.0.0.1, and the SPKI hash Chromium can be told to trust. */
export function makeCertificate(dir) {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
  { stdio: 'ignore' });
  const spki = execFileSync('sh', ['-c',
    `openssl x509 -in '${cert}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`]).toString().trim();
  chmodSync(key, 0o644);
  return { key, cert, spki, certPem: readFileSync(cert, 'utf8') };
}

const MOSQUITTO = '/usr/sbin/mosquitto';

/** A mosquitto on loopback with persistence; `tls: true` adds a wss listener. */
export async function startMosquitto({ extra = '', tls = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'wasmqtt-mosq-'));
  chmodSync(dir, 0o777);
  const tcpPort = await freePort();
  const wsPort = await freePort();
  const wssPort = tls ? await freePort() : null;
  const mqttsPort = tls ? await freePort() : null;
  const certificate = tls ? makeCertificate(dir) : null;
  let conf = `per_listener_settings false\nallow_anonymous true\nlog_dest stderr\n` +
    `persistence true\npersistence_location ${dir}/\nautosave_interval 0\n` +
    `listener ${tcpPort} 127.0.0.1\nprotocol mqtt\n` +
    `listener ${wsPort} 127.0.0.1\nprotocol websockets\nsocket_domain ipv4\n`;
  if (tls) {
    conf += `listener ${wssPort} 127.0.0.1\nprotocol websockets\nsocket_domain ipv4\ncertfile ${certificate.cert}\nkeyfile ${certificate.key}\n`;
    conf += `listener ${mqttsPort} 127.0.0.1\nprotocol mqtt\ncertfile ${certificate.cert}\nkeyfile ${certificate.key}\n`;
  }
  writeFileSync(join(dir, 'mosquitto.conf'), conf + extra + '\n');
  let proc = null;
  let log = '';
  const spawnIt = async () => {
    proc = track(spawn(MOSQUITTO, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] }));
    proc.stderr.on('data', (d) => { log += d; });
    for (const port of [tcpPort, wsPort, wssPort, mqttsPort]) if (port) await waitForPort(port);
  };
  await spawnIt();
  const stop = async () => {
    if (!proc) return;
    const p = proc;
    proc = null;
    p.kill('SIGCONT');
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  };
  return {
    tcpPort, wsPort, wssPort, mqttsPort, certificate, dir,
    ws: `ws://127.0.0.1:${wsPort}/mqtt`,
    wss: tls ? `wss://127.0.0.1:${wssPort}/mqtt` : null,
    log: () => log,
    stop,
    restart: async () => { await stop(); await spawnIt(); },
    freeze: () => proc?.kill('SIGSTOP'),
    thaw: () => proc?.kill('SIGCONT'),
    close: async () => { await stop(); rmSync(dir, { recursive: true, force: true }); },
  };
}

/** aedes (a second, independent broker, MQTT 3.1.1) over WebSocket, in this process. */
export async function startAedes(options = {}) {
  const { Aedes } = await import('aedes');
  const { WebSocketServer, createWebSocketStream } = await import('ws');
  const { createServer: tcpServer } = await import('node:net');
  const aedes = await Aedes.createBroker(options);
  const http = httpServer();
  const wss = new WebSocketServer({ server: http, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false) });
  wss.on('connection', (socket) => aedes.handle(createWebSocketStream(socket)));
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  const port = http.address().port;
  const sockets = new Set();
  const tcp = tcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise((r) => tcp.listen(0, '127.0.0.1', r));
  return {
    ws: `ws://127.0.0.1:${port}/mqtt`,
    tcp: `mqtt://127.0.0.1:${tcp.address().port}`,
    aedes,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      for (const s of sockets) s.destroy();
      await new Promise((r) => wss.close(r));
      await new Promise((r) => http.close(r));
      await new Promise((r) => tcp.close(r));
      await new Promise((r) => aedes.close(r));
    },
  };
}

/**
 * A TCP proxy on loopback to `targetPort` that the test can stall (stop forwarding, keep the
 * sockets open: a dead link the client must notice), resume, or cut (close every connection).
 */
export async function startProxy(targetPort) {
  const pairs = new Set();
  let stalled = false;
  let blocked = false;
  const server = netServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = netConnect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    const forward = (from, to) => from.on('data', (d) => { if (!stalled) to.write(d); });
    forward(client, upstream);
    forward(upstream, client);
    const end = () => { pairs.delete(pair); client.destroy(); upstream.destroy(); };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return {
    port,
    ws: `ws://127.0.0.1:${port}/mqtt`,
    stall: () => { stalled = true; },
    resume: () => { stalled = false; },
    cut: () => { for (const p of pairs) { p.client.destroy(); p.upstream.destroy(); } pairs.clear(); },
    /** Refuse new connections (the broker looks down), or accept them again. */
    block: () => { blocked = true; },
    unblock: () => { blocked = false; },
    connections: () => pairs.size,
    close: async () => { for (const p of pairs) { p.client.destroy(); p.upstream.destroy(); } await new Promise((r) => server.close(r)); },
  };
}

/** A broker for the compatibility suite: mosquitto, or aedes refusing `denied/#` and the user "intruder". */
export function startCompatBroker(broker) {
  return broker === 'mosquitto'
    ? startMosquitto({})
    : startAedes({
      // A null grant refuses the filter: SUBACK 0x80.
      authorizeSubscribe: (client, sub, done) => done(null, sub.topic.startsWith('denied/') ? null : sub),
      authenticate: (client, username, password, done) => {
        if (username !== 'intruder') return done(null, true);
        const e = new Error('bad user name or password');
        e.returnCode = 4;
        return done(e, false);
      },
    });
}

/** The broker at `url` through a TCP proxy the test can cut: `{ proxy, url }`. */
export async function proxied(url) {
  const u = new URL(url);
  const proxy = await startProxy(Number(u.port));
  u.port = String(proxy.port);
  return { proxy, url: u.toString().replace(/\/$/, u.pathname === '/' ? '' : '/') };
}

export const BROWSER_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

/** Headless Chromium driven by playwright-core (never a downloaded browser). */
export async function launchBrowser({ trustSpki } = {}) {
  const args = [...BROWSER_ARGS];
  if (trustSpki) args.push(`--ignore-certificate-errors-spki-list=${trustSpki}`);
  return chromium.launch({ executablePath: CHROMIUM, args, headless: true });
}

/** A page with the package loaded as `window.wasmqtt` (initialised). */
export async function clientPage(browser, server) {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(`${server.url}/tests/js/pages/client.html`);
  await page.waitForFunction(() => window.wasmqttReady === true, null, { timeout: 20000 });
  return page;
}

/** Whether an inline script added to `page` runs (a Content-Security-Policy should stop it). */
export function inlineScriptRuns(page) {
  return page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.injectedRan = true';
    document.head.append(s);
    return window.injectedRan === true;
  });
}

/** Resolves once `cond()` (which may return a promise) is true; fails after `ms` naming `what`. */
export async function waitFor(cond, ms, what) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Polls `fn` until it returns something truthy (and returns it), or fails after `ms` naming
 * `what` (a string, or a function giving one, for a message built at the time of failing). */
export async function until(what, fn, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await sleep(100);
  }
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

export function readText(path) {
  return readFileSync(path, 'utf8');
}

/** The fleet binary with `devices` devices that never crash on their own. */
export async function startFleet({ devices = 20, intervalMs = 1000, crashEveryS = 1_000_000 } = {}) {
  const bin = process.env.WASMQTT_FLEET;
  if (!bin) throw new Error('WASMQTT_FLEET is not set: run through `cargo xtask test`, which builds xtask/fleet');
  const ws = await freePort();
  const tcp = await freePort();
  const proc = track(spawn(bin, ['--ws-port', ws, '--tcp-port', tcp, '--devices', devices, '--interval-ms', intervalMs, '--crash-every-s', crashEveryS].map(String), { stdio: ['ignore', 'pipe', 'inherit'] }));
  await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => { out += d; if (out.includes('ready')) resolve(); });
    proc.once('exit', (code) => reject(new Error(`the fleet exited (${code})`)));
  });
  return {
    ws: `ws://127.0.0.1:${ws}/mqtt`,
    tcp,
    close: async () => {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    },
  };
}


/** A cluster of `nodes` rmqtt nodes (rmqtt's raft plugin, each a fleet process of its own) and
 * `devices` simulated devices spread over them. Each node can be killed (SIGKILL), frozen
 * (SIGSTOP), thawed (SIGCONT) and started again on the same ports. */
export async function startCluster({ nodes = 3, devices = 0, intervalMs = 1000 } = {}) {
  const bin = process.env.WASMQTT_FLEET;
  if (!bin) throw new Error('WASMQTT_FLEET is not set: run through `cargo xtask test`, which builds xtask/fleet');
  // The nodes' ports are chosen before any node listens, so another process may take one first;
  // the node then exits ("cannot listen") and the cluster is started again on new ports.
  let ports;
  let started;
  let spawnNode;
  for (let attempt = 1; ; attempt++) {
    ports = [];
    for (let k = 0; k < nodes; k++) ports.push({ ws: await freePort(), tcp: await freePort(), grpc: await freePort(), raft: await freePort() });
    const grpc = ports.map((p, k) => `${k + 1}@127.0.0.1:${p.grpc}`).join(',');
    const raft = ports.map((p, k) => `${k + 1}@127.0.0.1:${p.raft}`).join(',');
    spawnNode = (k) => {
      const p = ports[k];
      const proc = track(spawn(bin, ['--broker-only', '--node-id', k + 1, '--grpc-addrs', grpc, '--raft-addrs', raft,
        '--ws-port', p.ws, '--tcp-port', p.tcp].map(String), { stdio: ['ignore', 'pipe', 'inherit'] }));
      return { proc, ready: ready(proc, `node ${k + 1}`, 90_000) };
    };
    started = [];
    for (let k = 0; k < nodes; k++) started.push(spawnNode(k));
    const failed = (await Promise.allSettled(started.map((s) => s.ready))).find((r) => r.status === 'rejected');
    if (!failed) break;
    for (const s of started) await stopProcess(s.proc, 'SIGKILL');
    if (attempt === 3) throw failed.reason;
    console.error(`the cluster did not start (${failed.reason.message}); starting it again on other ports`);
  }
  for (let k = 1; k < nodes; k++) await routes(ports[0].tcp, ports[k].tcp);
  const node = (k) => ({
    id: k + 1,
    ws: `ws://127.0.0.1:${ports[k].ws}/mqtt`,
    tcp: ports[k].tcp,
    mqtt: `mqtt://127.0.0.1:${ports[k].tcp}`,
    get pid() { return started[k].proc.pid; },
    kill: () => stopProcess(started[k].proc, 'SIGKILL'),
    freeze: () => started[k].proc.kill('SIGSTOP'),
    thaw: () => started[k].proc.kill('SIGCONT'),
    /** Starts the node again on its ports; it finds the cluster's leader and joins. Resolves
     * once a message published on it reaches a subscriber on another node (it routes). */
    restart: async () => {
      await stopProcess(started[k].proc, 'SIGKILL');
      started[k] = await spawnNode(k);
      await started[k].ready;
      await routes(ports[k].tcp, ports[(k + 1) % nodes].tcp);
    },
  });
  const list = ports.map((_, k) => node(k));
  // At most 15,000 devices a process: each holds a socket per device, and a process may have
  // 20,000 open files here (ulimit -n).
  const fleets = [];
  const urls = list.map((n) => `tcp://127.0.0.1:${n.tcp}`).join(',');
  for (let first = 0; first < devices; first += 15_000) {
    const count = Math.min(15_000, devices - first);
    const f = track(spawn(bin, ['--devices-only', urls, '--devices', count, '--first-device', first, '--interval-ms', intervalMs, '--crash-every-s', 1_000_000].map(String),
      { stdio: ['ignore', 'pipe', 'inherit'] }));
    await ready(f, 'the devices', 30_000);
    fleets.push(f);
  }
  return {
    nodes: list,
    /** The device processes (for their CPU and memory). */
    fleets,
    close: async () => {
      for (const f of fleets) await stopProcess(f, 'SIGKILL');
      for (const s of started) { s.proc.kill('SIGCONT'); await stopProcess(s.proc, 'SIGKILL'); }
    },
  };
}

/** Resolves when a message published on the node at `from` reaches a subscriber on the node at
 * `to` (TCP ports), trying for up to 60 s: a node that has just joined routes once the cluster's
 * subscription table has reached it. */
async function routes(from, to) {
  const { default: mqtt } = await import('mqtt');
  const end = Date.now() + 60_000;
  let last = '';
  while (Date.now() < end) {
    const opts = { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000 };
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${to}`, { ...opts, clientId: `routes-sub-${from}` }).catch((e) => { last = e.message; });
    const pub = sub && await mqtt.connectAsync(`mqtt://127.0.0.1:${from}`, { ...opts, clientId: `routes-pub-${from}` }).catch((e) => { last = e.message; });
    if (sub && pub) {
      const got = new Promise((r) => sub.once('message', () => r(true)));
      await sub.subscribeAsync('cluster/routes', { qos: 1 });
      for (let i = 0; i < 10; i++) {
        await pub.publishAsync('cluster/routes', 'probe', { qos: 1 }).catch((e) => { last = e.message; });
        if (await Promise.race([got, sleep(300).then(() => false)])) {
          await sub.endAsync(true);
          await pub.endAsync(true);
          return;
        }
      }
      last = 'published, never received';
    }
    await sub?.endAsync(true);
    await pub?.endAsync(true);
    await sleep(500);
  }
  throw new Error(`the node on port ${from} does not route to the node on port ${to} after 60 s: ${last}`);
}

/** Resolves when `proc` prints `ready`; rejects if it exits first or takes longer than `ms`. */
function ready(proc, what, ms) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} was not ready within ${ms} ms`)), ms);
    proc.stdout.on('data', (d) => { out += d; if (out.includes('ready')) { clearTimeout(timer); resolve(); } });
    proc.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`${what} exited (${code ?? signal}) before it was ready`)); });
  });
}

async function stopProcess(proc, signal) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill(signal);
  await exited;
}
