// Headless Chromium driven over raw CDP (only the domains asked for): Playwright's page API
// turns on DevTools network tracking, which halves WebSocket throughput in the page.

import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { freePort, removeProfile, sleep } from '../env.mjs';

/** Chromium with its DevTools port on loopback; `tab(url, ready)` opens a page over raw CDP. */
export async function startChromium() {
  const port = await freePort();
  const profile = mkdtempSync(join(tmpdir(), 'wasmqtt-bench-'));
  const proc = spawn('/usr/lib/chromium/chromium', [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows', '--disable-dev-shm-usage',
    '--remote-debugging-address=127.0.0.1', `--remote-debugging-port=${port}`,
    `--user-data-dir=${profile}`, 'about:blank',
  ], { stdio: 'ignore' });
  let version = null;
  for (let i = 0; i < 100 && !version; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/json/version`);
      if (r.ok) version = await r.json();
    } catch {}
    if (!version) await sleep(100);
  }
  if (!version) throw new Error('chromium did not open its DevTools port');
  return {
    version: version.Browser,
    async tab(url, ready = 'window.benchReady === true') {
      const r = await fetch(`http://127.0.0.1:${port}/json/new?${encodeURIComponent(url)}`, { method: 'PUT' });
      const target = await r.json();
      const cdp = await Cdp.open(target.webSocketDebuggerUrl);
      const tab = {
        cdp,
        async eval(expression) {
          const res = await cdp.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
          if (res.exceptionDetails) {
            throw new Error(`page: ${res.exceptionDetails.exception?.description ?? res.exceptionDetails.text}`);
          }
          return res.result.value;
        },
        async metrics() {
          const { metrics } = await cdp.send('Performance.getMetrics');
          return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
        },
        /** JS heap in use after a full garbage collection. */
        async heap() {
          await cdp.send('HeapProfiler.collectGarbage');
          const { usedSize } = await cdp.send('Runtime.getHeapUsage');
          return usedSize;
        },
        async close() {
          cdp.close();
          await fetch(`http://127.0.0.1:${port}/json/close/${target.id}`);
        },
      };
      await cdp.send('Performance.enable');
      for (let i = 0; i < 200; i++) {
        if (await tab.eval(ready).catch(() => false)) return tab;
        await sleep(50);
      }
      throw new Error(`the bench page did not load: ${url}`);
    },
    async close() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await exited;
      }
      await removeProfile(profile);
    },
  };
}

export class Cdp {
  static async open(url) {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 << 20 });
    await new Promise((ok, fail) => { ws.once('open', ok); ws.once('error', fail); });
    return new Cdp(ws);
  }

  constructor(ws) {
    this.ws = ws;
    this.next = 1;
    this.waiting = new Map();
    this.listeners = new Map();
    ws.on('message', (data) => {
      const msg = JSON.parse(data);
      if (msg.method) for (const f of this.listeners.get(msg.method) ?? []) f(msg.params);
      const w = msg.id && this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (msg.error) w.fail(new Error(`${w.method}: ${msg.error.message}`));
      else w.ok(msg.result);
    });
  }

  /** Calls `f` with the parameters of each event `method` (e.g. 'Tracing.dataCollected'). */
  on(method, f) {
    this.listeners.set(method, [...(this.listeners.get(method) ?? []), f]);
  }

  send(method, params = {}) {
    const id = this.next++;
    return new Promise((ok, fail) => {
      this.waiting.set(id, { ok, fail, method });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close() {
    this.ws.close();
  }
}

