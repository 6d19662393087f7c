// The dashboard under load: the dev tool's broker with 10,000 simulated devices sending about
// 5,000 messages a second into the page (subscribed to devices/#), in headless Chromium driven
// over raw CDP; the operator views with a rollout and a chart running (PREPARE). Measures, per view, over a steady-state window: messages/s handled, frames/s,
// long tasks (main-thread tasks over 50 ms), main-thread busy time, JS heap and DOM size.
//
//   node tests/js/bench/dashboard.bench.mjs [devices] [interval-ms] [seconds-per-view]
// (`cargo xtask bench` runs it with the defaults; WASMQTT_DIST and WASMQTT_FLEET as for the tests.)

import { cpus } from 'node:os';
import { serveStatic, startFleet, sleep } from '../env.mjs';
import { startChromium } from './cdp.mjs';

const DEVICES = Number(process.argv[2] ?? 10_000);
const INTERVAL = Number(process.argv[3] ?? 2_000);
const SECONDS = Number(process.argv[4] ?? 20);
const VIEWS = ['devices', 'fleet', 'charts', 'messages', 'topics', 'health'];

// What each view does while it is measured, beyond the steady load: on the fleet view a 10%
// firmware rollout runs (about 1,000 devices report their upgrade's progress, 7-8 shadow
// documents each, on top of the telemetry); the charts view draws every device's temperature
// (a series over devices/+/telemetry, so each telemetry message is read for it too).
const set = (sel, value) => `(() => { const e = document.querySelector('${sel}'); e.value = ${JSON.stringify(value)}; e.dispatchEvent(new Event('input', { bubbles: true })); })()`;
const PREPARE = {
  fleet: [set('[data-testid=rollout-patch]', '{"firmware": "1.4.0"}'), set('[data-testid=rollout-share]', '10'),
    `document.querySelector('[data-testid=rollout-start]').click()`],
  charts: [set('[data-testid=chart-topic]', 'devices/+/telemetry'), set('[data-testid=chart-path]', 'temp'),
    `document.querySelector('[data-testid=chart-add]').click()`],
};

// Installed before the page's own scripts: long tasks and frames are recorded from the start.
const PROBE = `
  window.__perf = { longtasks: [], frames: 0, maxGap: 0, last: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__perf.longtasks.push({ at: e.startTime, ms: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  const frame = (t) => {
    const p = window.__perf;
    if (p.last) p.maxGap = Math.max(p.maxGap, t - p.last);
    p.last = t;
    p.frames++;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  addEventListener('TrunkApplicationStarted', (e) => { window.__wasm = e.detail.wasm; });
`;

const count = `(() => {
  const t = document.querySelector('[data-testid=sub-count]')?.textContent ?? '0';
  return Number(t.replace(/[^0-9]/g, ''));
})()`;

async function main() {
  const dist = process.env.WASMQTT_DIST;
  if (!dist) throw new Error('WASMQTT_DIST is not set (the trunk build of the dashboard): run `cargo xtask bench`');
  console.log(`dashboard under load: ${DEVICES} devices, one message each every ${INTERVAL} ms ` +
    `(~${Math.round((DEVICES * 1000) / INTERVAL)} msg/s), ${SECONDS} s per view; ${cpus().length} cores (${cpus()[0].model})`);
  const fleet = await startFleet({ devices: DEVICES, intervalMs: INTERVAL, crashEveryS: 600 });
  const server = await serveStatic({}, dist.endsWith('/') ? dist : dist + '/');
  const chrome = await startChromium();
  const results = [];
  try {
    const tab = await chrome.tab('about:blank', 'true');
    await tab.cdp.send('Page.enable');
    await tab.cdp.send('Page.addScriptToEvaluateOnNewDocument', { source: PROBE });
    await tab.cdp.send('Page.navigate', { url: `${server.url}/index.html?broker=${encodeURIComponent(fleet.ws)}#devices` });
    for (let i = 0; i < 300; i++) {
      if ((await tab.eval(`document.querySelector('[data-testid=conn-state]')?.textContent`).catch(() => '')) === 'connected') break;
      await sleep(100);
    }
    // The retained births of every device arrive at once on subscribing; let that pass.
    await sleep(8_000);
    console.log(`after start-up: ${await tab.eval(`document.querySelector('[data-testid=census]')?.textContent`)}`);
    for (const view of VIEWS) {
      await tab.eval(`document.querySelector('[data-testid=tab-${view}]').click()`);
      await sleep(500);
      for (const step of PREPARE[view] ?? []) await tab.eval(step);
      await sleep(1_500);
      await tab.cdp.send('HeapProfiler.collectGarbage');
      const m0 = await tab.metrics();
      const c0 = await tab.eval(count);
      const p0 = await tab.eval(`({ frames: __perf.frames, longtasks: __perf.longtasks.length, now: performance.now() })`);
      await tab.eval(`__perf.maxGap = 0`);
      await sleep(SECONDS * 1000);
      const m1 = await tab.metrics();
      const c1 = await tab.eval(count);
      const p1 = await tab.eval(`({ frames: __perf.frames, long: __perf.longtasks.slice(${p0.longtasks}), now: performance.now(), maxGap: __perf.maxGap })`);
      const wall = (p1.now - p0.now) / 1000;
      // After a full collection: the counters include nodes already removed from the page and
      // not yet collected (the log replaces thousands of rows a minute), which moved this figure
      // by 4x from run to run.
      const heap = await tab.heap();
      const dom = await tab.cdp.send('Memory.getDOMCounters').catch(() => ({ nodes: NaN }));
      const wasm = await tab.eval(`window.__wasm?.memory?.buffer.byteLength ?? 0`);
      results.push({
        wasm,
        view,
        msgs: (c1 - c0) / wall,
        fps: (p1.frames - p0.frames) / wall,
        maxGap: p1.maxGap,
        long: p1.long.length,
        longMax: p1.long.reduce((a, e) => Math.max(a, e.ms), 0),
        busy: ((m1.TaskDuration - m0.TaskDuration) / wall) * 100,
        heap,
        nodes: dom.nodes,
      });
      const r = results.at(-1);
      if (view === 'fleet') {
        r.rollout = await tab.eval(`JSON.stringify(document.querySelector('[data-testid=rollout]')?.dataset ?? null)`);
      }
      console.error(`  ${view}: ${JSON.stringify(r, (k, v) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))}`);
    }
    console.log(`the fleet view's rollout after its ${SECONDS} s: ${results.find((r) => r.view === 'fleet')?.rollout}`);
    const longAll = await tab.eval(`__perf.longtasks`);
    console.log('\n| view | messages/s handled | frames/s | longest frame gap | long tasks (>50 ms) | longest task | main thread busy | JS heap | wasm memory | DOM nodes |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of results) {
      console.log(`| ${r.view} | ${Math.round(r.msgs)} | ${r.fps.toFixed(0)} | ${r.maxGap.toFixed(0)} ms | ${r.long} | ${r.long ? r.longMax.toFixed(0) + ' ms' : '—'} | ${r.busy.toFixed(0)}% | ${(r.heap / 1e6).toFixed(1)} MB | ${(r.wasm / 1e6).toFixed(1)} MB | ${r.nodes} |`);
    }
    console.log(`\nlong tasks over the whole run, start-up included: ${longAll.length}` +
      (longAll.length ? ` (longest ${Math.max(...longAll.map((e) => e.ms)).toFixed(0)} ms, at ${longAll.map((e) => (e.at / 1000).toFixed(1) + ' s').slice(0, 8).join(', ')})` : ''));
  } finally {
    await chrome.close();
    await server.close();
    await fleet.close();
  }
}

await main();
