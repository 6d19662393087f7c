// Keep-alive that survives hidden tabs. Chrome throttles main-thread timers in hidden pages
// (intensive wake-up throttling), which is why MQTT.js connections with a keep-alive under a
// minute die in background tabs. wasmqtt keeps its deadlines in a Worker.
//
// Playwright's launch() cannot hide a page (it disables throttling), so Chromium is started here
// with a DevTools port on loopback and attached over CDP; the pages are hidden behind a second
// tab for three minutes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startMosquitto, serveStatic, freePort, removeProfile, sleep, track } from './env.mjs';

const SKIP = process.env.WASMQTT_SKIP_BROWSER === '1' && 'browsers skipped (--quick)';
const HIDDEN_MS = Number(process.env.WASMQTT_HIDDEN_MS ?? 180_000);

async function startChromium() {
  const port = await freePort();
  const profile = mkdtempSync(join(tmpdir(), 'wasmqtt-hidden-'));
  // The real binary (the /usr/bin/chromium wrapper would survive a kill of its pid), without
  // any of the flags that disable background throttling.
  const proc = track(spawn('/usr/lib/chromium/chromium', [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--remote-debugging-address=127.0.0.1`, `--remote-debugging-port=${port}`,
    `--user-data-dir=${profile}`, '--window-size=1000,700', 'about:blank',
  ], { stdio: 'ignore' }));
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/json/version`);
      if (r.ok) break;
    } catch {}
    await sleep(100);
  }
  const browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`, { noDefaults: true });
  return {
    browser,
    close: async () => {
      try {
        const session = await browser.newBrowserCDPSession();
        await session.send('Browser.close');
      } catch {}
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await exited;
      }
      await removeProfile(profile);
    },
  };
}

test('a hidden page keeps its connection with Worker timers, and drops it with main-thread timers', { skip: SKIP, timeout: HIDDEN_MS + 120_000 }, async () => {
  const mosq = await startMosquitto();
  const server = await serveStatic();
  const chrome = await startChromium();
  try {
    const context = chrome.browser.contexts()[0];
    const open = async (workerTimer) => {
      const page = await context.newPage();
      await page.goto(`${server.url}/tests/js/pages/client.html`);
      await page.waitForFunction(() => window.wasmqttReady === true);
      await page.evaluate(async ({ url, workerTimer }) => {
        document.body.textContent = workerTimer ? 'worker timers' : 'main-thread timers';
        window.events = [];
        const c = await wasmqtt.connectAsync(url, { clientId: 'hidden-' + workerTimer, keepalive: 10, workerTimer });
        for (const e of ['close', 'offline', 'reconnect', 'connect']) c.on(e, (err) => window.events.push({ e, t: Math.round(performance.now()), kind: err?.kind }));
        window.c = c;
        window.visibility = [];
        document.addEventListener('visibilitychange', () => window.visibility.push(document.visibilityState));
      }, { url: mosq.ws, workerTimer });
      return page;
    };
    const worker = await open(true);
    const main = await open(false);
    assert.equal(await worker.evaluate(() => window.c.unthrottledTimer), true);
    assert.equal(await main.evaluate(() => window.c.unthrottledTimer), false);
    await sleep(1000);
    // Hide both behind a new tab in front.
    const front = await context.newPage();
    await front.goto(`${server.url}/tests/js/pages/client.html`);
    await front.bringToFront();
    await sleep(1000);
    assert.equal(await worker.evaluate(() => document.visibilityState), 'hidden');
    assert.equal(await main.evaluate(() => document.visibilityState), 'hidden');
    await sleep(HIDDEN_MS);
    const w = await worker.evaluate(() => ({ events: window.events, connected: window.c.connected, m: window.c.getMetrics() }));
    const m = await main.evaluate(() => ({ events: window.events, connected: window.c.connected }));
    assert.deepEqual(w.events, [], `the Worker-timed client lost its connection: ${JSON.stringify(w.events)}`);
    assert.equal(w.connected, true);
    assert.ok(w.m.connectedFor >= HIDDEN_MS, `connected for ${w.m.connectedFor} ms`);
    assert.ok(m.events.some((e) => e.e === 'close'), `the main-thread client was expected to be dropped: ${JSON.stringify(m.events)}`);
    console.log(`worker-timed: connected ${Math.round(w.m.connectedFor / 1000)} s, no drop; main-thread: ${JSON.stringify(m.events.slice(0, 4))}`);
    for (const p of [worker, main]) await p.evaluate(() => window.c.end(true));
  } finally {
    // Each one, even if another fails: a broker left running would keep this process alive.
    const closed = await Promise.allSettled([chrome.close(), server.close(), mosq.close()]);
    const failed = closed.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
});
