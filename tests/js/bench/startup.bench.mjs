// The dashboard's start-up, task by task. Each run is a first visit: a new headless Chromium
// with an empty profile loads the page (connected to the dev tool's broker and 50 simulated
// devices) under a performance trace; from the renderer's main thread it takes the longest task
// the page ran and what that task spent its time on (wasm compilation, running code, layout).
//
// Anchors, measured in the same run, for what the browser alone costs here:
// - "same DOM, no script": the dashboard's first screen saved as a static page with the same
//   stylesheet: the style, layout and paint of that DOM without any wasm;
// - "plain page": 90 lines of text.
// The browser's navigation commit, a task every page has (new window, new JS context), is shown
// apart from the page's own tasks.
//
//   node tests/js/bench/startup.bench.mjs [runs]
// WASMQTT_DIST: the dashboard's build (`cargo xtask bench` sets it); WASMQTT_FLEET as for the
// tests; WASMQTT_DIST_BEFORE: another build of the dashboard to measure in the same sitting.

import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveStatic, sleep, startFleet } from '../env.mjs';
import { startChromium } from './cdp.mjs';

const RUNS = Number(process.argv[2] ?? 15);
const SETTLE_MS = 3_000;
const LONG_MS = 50;

const CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.wasm',
  'disabled-by-default-v8.compile', 'toplevel'];

/** Loads `url` in a new browser under a trace; the renderer main thread's events. */
async function traceLoad(url) {
  const browser = await startChromium();
  try {
    const tab = await browser.tab('about:blank', 'true');
    const events = [];
    tab.cdp.on('Tracing.dataCollected', (p) => events.push(...p.value));
    const complete = new Promise((r) => tab.cdp.on('Tracing.tracingComplete', r));
    await tab.cdp.send('Tracing.start', { transferMode: 'ReportEvents', traceConfig: { includedCategories: CATEGORIES } });
    await tab.cdp.send('Page.navigate', { url });
    await sleep(SETTLE_MS);
    await tab.cdp.send('Tracing.end');
    await complete;
    await tab.close();
    return events;
  } finally {
    await browser.close();
  }
}

const within = (e, t) => e.ts >= t.ts && e.ts + e.dur <= t.ts + t.dur;

/** The page's tasks and the navigation commit, from one trace: durations in ms. */
export function tasks(events) {
  const mains = events.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  let page = { ms: 0, parts: {} };
  let navigation = 0;
  for (const m of mains) {
    const ev = events.filter((e) => e.pid === m.pid && e.tid === m.tid && e.ph === 'X' && e.dur);
    // A task is the outermost RunTask; nested ones are parts of it.
    for (const t of ev.filter((e) => e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask')) {
      const inside = ev.filter((e) => e !== t && within(e, t));
      const nav = inside.filter((e) => e.name === 'Receive mojo message'
        && JSON.stringify(e.args ?? {}).includes('NavigationClient')).reduce((a, e) => a + e.dur, 0);
      if (nav > t.dur / 2) {
        navigation = Math.max(navigation, t.dur / 1000);
      } else if (t.dur / 1000 > page.ms) {
        const sum = (...names) => inside.filter((e) => names.includes(e.name)).reduce((a, e) => a + e.dur, 0) / 1000;
        page = {
          ms: t.dur / 1000,
          parts: {
            'wasm compile': sum('v8.wasm.compileConsume', 'wasm.CompileLazy'),
            'style+layout': sum('UpdateLayoutTree', 'Layout'),
            'paint': sum('Paint', 'Commit'),
            'script': sum('FunctionCall', 'EvaluateScript', 'v8.evaluateModule'),
          },
          at: t.ts,
        };
      }
    }
  }
  return { page, navigation };
}

/** Saves the page's DOM (no scripts) with its stylesheet as a static page; its directory. */
async function snapshot(url, dist) {
  const browser = await startChromium();
  try {
    const tab = await browser.tab(url, `document.querySelectorAll('.sidebar .panel').length >= 3`);
    await sleep(1_000);
    const html = await tab.eval(`(() => {
      const d = document.documentElement.cloneNode(true);
      d.querySelectorAll('script, link[rel=modulepreload], link[rel=preload]').forEach((e) => e.remove());
      d.querySelectorAll('link[integrity]').forEach((e) => e.removeAttribute('integrity'));
      return '<!DOCTYPE html>' + d.outerHTML;
    })()`);
    await tab.close();
    const dir = mkdtempSync(join(tmpdir(), 'wasmqtt-startup-'));
    writeFileSync(join(dir, 'index.html'), html);
    for (const f of readdirSync(dist).filter((f) => f.endsWith('.css'))) copyFileSync(join(dist, f), join(dir, f));
    return dir;
  } finally {
    await browser.close();
  }
}

function plainPage() {
  const dir = mkdtempSync(join(tmpdir(), 'wasmqtt-startup-'));
  const rows = Array.from({ length: 90 }, (_, i) => `<div><span>row ${i}</span> <b>value</b></div>`).join('');
  writeFileSync(join(dir, 'index.html'), `<!DOCTYPE html><html><body>${rows}</body></html>`);
  return dir;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };
const f0 = (x) => x.toFixed(0);

async function main() {
  const dist = process.env.WASMQTT_DIST;
  if (!dist) throw new Error('WASMQTT_DIST is not set: run through `cargo xtask bench`');
  const fleet = await startFleet({ devices: 50, intervalMs: 2_000 });
  const servers = [];
  try {
    const query = `?broker=${encodeURIComponent(fleet.ws)}#devices`;
    const serve = async (dir) => { const s = await serveStatic({}, dir); servers.push(s); return s.url; };
    const pages = [['dashboard', `${await serve(dist)}/index.html${query}`]];
    if (process.env.WASMQTT_DIST_BEFORE) {
      pages.push(['dashboard (before)', `${await serve(process.env.WASMQTT_DIST_BEFORE)}/index.html${query}`]);
    }
    pages.push(['same DOM, no script', `${await serve(await snapshot(pages[0][1], dist))}/index.html`]);
    pages.push(['plain page', `${await serve(plainPage())}/index.html`]);
    const results = new Map(pages.map(([name]) => [name, []]));
    // Interleaved, so a slow spell of the machine touches every page alike.
    for (let i = 0; i < RUNS; i++) {
      for (const [name, url] of pages) {
        const r = tasks(await traceLoad(url));
        results.get(name).push(r);
        if (process.env.VERBOSE) console.log(name, f0(r.page.ms), JSON.stringify(r.page.parts));
      }
    }
    console.log(`start-up, ${RUNS} first visits per page (median, range; runs whose longest task is over ${LONG_MS} ms)`);
    for (const [name, runs] of results) {
      const longest = runs.map((r) => r.page.ms);
      const nav = runs.map((r) => r.navigation);
      const parts = Object.keys(runs[0].page.parts).map((k) => `${k} ${f0(median(runs.map((r) => r.page.parts[k] ?? 0)))}`).join(', ');
      console.log(`  ${name.padEnd(20)} longest task ${f0(median(longest))} ms (${f0(Math.min(...longest))}-${f0(Math.max(...longest))}), `
        + `over ${LONG_MS} ms in ${longest.filter((x) => x > LONG_MS).length}/${runs.length}; in it: ${parts} ms; `
        + `navigation commit ${f0(median(nav))} ms (${f0(Math.min(...nav))}-${f0(Math.max(...nav))})`);
    }
  } finally {
    for (const s of servers) await s.close();
    await fleet.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
