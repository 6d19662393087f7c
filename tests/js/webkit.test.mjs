// The package in WebKit, the engine of Safari on every iPhone: Debian's WebKitGTK MiniBrowser
// driven by its WebDriver (webkit2gtk-driver) under Xvfb. The compatibility suite's tests
// (compat-tests.mjs, wasmqtt's side) run there against mosquitto and aedes, and the client runs
// in a dedicated Worker with its session in the Worker's IndexedDB.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startCompatBroker, startMosquitto, proxied, serveStatic, freePort, sleep, track } from './env.mjs';
import { compatTests } from './compat-tests.mjs';

const DRIVER = '/usr/bin/WebKitWebDriver';
const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const SKIP = (process.env.WASMQTT_SKIP_BROWSER === '1' && 'browsers skipped (--quick)')
  || (!existsSync(DRIVER) && `${DRIVER} is missing: apt-get install webkit2gtk-driver xvfb`);

/** A virtual display for the MiniBrowser: Xvfb picks a free display number and tells it. */
async function startXvfb() {
  const proc = track(spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] }));
  const display = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdio[3].on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(`:${out.trim()}`);
    });
    proc.once('exit', (code) => reject(new Error(`Xvfb exited (${code})`)));
    setTimeout(() => reject(new Error('Xvfb did not start')), 10000);
  });
  return { display, close: () => proc.kill() };
}

/** A W3C WebDriver session on WebKitWebDriver. */
async function startWebKit(display) {
  const port = await freePort();
  const driver = track(spawn(DRIVER, [`--port=${port}`], { env: { ...process.env, DISPLAY: display }, stdio: 'ignore' }));
  const call = async (method, path, body) => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
    const out = await r.json();
    if (out.value?.error) throw new Error(`WebDriver ${path}: ${out.value.error}: ${out.value.message}`);
    return out.value;
  };
  for (let i = 0; ; i++) {
    try {
      await call('GET', '/status');
      break;
    } catch (e) {
      if (i > 100) throw e;
      await sleep(100);
    }
  }
  const session = await call('POST', '/session', {
    capabilities: { alwaysMatch: { browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] } } },
  });
  const base = `/session/${session.sessionId}`;
  await call('POST', `${base}/timeouts`, { script: 60000, pageLoad: 30000 });
  return {
    version: session.capabilities.browserVersion,
    goto: (url) => call('POST', `${base}/url`, { url }),
    /** Runs `body` (a function's source taking args and a done callback) in the page. */
    run: (script, args = []) => call('POST', `${base}/execute/async`, { script, args }),
    eval: (script, args = []) => call('POST', `${base}/execute/sync`, { script, args }),
    close: async () => {
      await call('DELETE', base).catch(() => {});
      driver.kill();
    },
  };
}

describe('wasmqtt in WebKit (WebKitGTK MiniBrowser under Xvfb)', { skip: SKIP }, () => {
  let xvfb;
  let webkit;
  let server;
  const proxies = new Map();
  before(async () => {
    xvfb = await startXvfb();
    webkit = await startWebKit(xvfb.display);
    // The page asks for proxies over HTTP (WebDriver has no way to expose functions to it).
    server = await serveStatic({
      '/compat-proxy': async (q) => {
        const p = await proxied(q.get('url'));
        const id = String(proxies.size + 1);
        proxies.set(id, p.proxy);
        return { id, url: p.url };
      },
      '/compat-proxy-do': async (q) => {
        await proxies.get(q.get('id'))?.[q.get('method')]();
        if (q.get('method') === 'close') proxies.delete(q.get('id'));
        return true;
      },
    });
  });
  after(async () => {
    for (const p of proxies.values()) await p.close();
    await webkit?.close();
    await server?.close();
    xvfb?.close();
  });

  for (const broker of ['mosquitto', 'aedes']) {
    describe(`the compatibility suite, wasmqtt's side, with ${broker}`, () => {
      let b;
      before(async () => {
        b = await startCompatBroker(broker);
        await webkit.goto(`${server.url}/tests/js/pages/compat.html`);
        for (let i = 0; !(await webkit.eval('return window.compatReady === true')); i++) {
          if (i > 200) throw new Error('compat.html did not load in WebKit');
          await sleep(100);
        }
      });
      after(async () => b?.close());
      const titles = compatTests({ assert, sleep, proxied }).map(([title]) => title);
      for (const title of titles) {
        it(title, { timeout: 60000 }, async () => {
          const failure = await webkit.run(
            'const done = arguments[arguments.length - 1]; window.runCompat(arguments[0], arguments[1], arguments[2], arguments[3]).then(done, (e) => done(String(e)));',
            ['wasmqtt', title, b.ws, broker],
          );
          assert.equal(failure, null, `WebKit ${webkit.version}: ${failure}`);
        });
      }
    });
  }

  it('a dedicated Worker runs the client, its persistent session in the Worker\'s IndexedDB', { timeout: 60000 }, async () => {
    const mosq = await startMosquitto({});
    try {
      const topic = `webkit/worker/${Date.now()}`;
      await webkit.goto(`${server.url}/tests/js/pages/worker.html?broker=${encodeURIComponent(mosq.ws)}&topic=${encodeURIComponent(topic)}`);
      let result;
      for (let i = 0; (result = await webkit.eval('return window.result ?? null')) === null; i++) {
        if (i > 300) throw new Error('no result from the Worker in WebKit');
        await sleep(100);
      }
      assert.equal(result.error, undefined, result.error);
      assert.equal(result.text, 'from a worker');
      assert.equal(result.qos, 1);
      assert.ok(result.databases.includes('wasmqtt'), `the Worker's IndexedDB holds the session: ${result.databases}`);
    } finally {
      await mosq.close();
    }
  });
});
