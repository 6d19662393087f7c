// The compatibility suite of issue 10: tests written against MQTT.js's documented API (its
// README and types), not wasmqtt's (compat-tests.mjs), run against both libraries: in Node over
// TCP and WebSocket, and in headless Chromium over WebSocket, against mosquitto and aedes. A
// test that cannot pass for one library is listed in DIFFERENCES with why (the README's
// migration table says the same); every other test must pass for both. The counts for both are
// printed at the end.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCompatBroker, proxied, sleep, launchBrowser, serveStatic } from './env.mjs';
import { compatTests } from './compat-tests.mjs';

const SKIP_BROWSER = process.env.WASMQTT_SKIP_BROWSER === '1' && 'browsers skipped (--quick)';

const LIBRARIES = {
  'MQTT.js': async () => (await import('mqtt')).default,
  wasmqtt: async () => (await import('wasmqtt')).default,
};

/** Tests one library fails on purpose: library -> test title -> why. */
const DIFFERENCES = {
  'MQTT.js': {},
  wasmqtt: {},
};

const counts = {};
after(() => {
  for (const [lib, c] of Object.entries(counts)) {
    console.log(`compatibility suite, ${lib}: ${c.pass} passed, ${c.different} documented differences, of ${c.pass + c.different + c.fail} (${c.fail} failed)`);
  }
});

const TESTS = compatTests({ assert, sleep, proxied });

/** Runs one test and counts it: a documented difference must fail, everything else pass. */
async function counted(lib, title, run) {
  const why = DIFFERENCES[lib][title];
  try {
    await run();
  } catch (e) {
    if (why) {
      counts[lib].different++;
      return; // a documented difference
    }
    counts[lib].fail++;
    throw e;
  }
  if (why) {
    counts[lib].fail++;
    throw new Error(`listed as a difference (${why}) but passes: take it off the list`);
  }
  counts[lib].pass++;
}

const BROKERS = [
  ['mosquitto', 'tcp'],
  ['mosquitto', 'ws'],
  ['aedes', 'tcp'],
  ['aedes', 'ws'],
];

let unique = 0;
for (const [lib, load] of Object.entries(LIBRARIES)) {
  counts[lib] = { pass: 0, fail: 0, different: 0 };
  for (const [broker, transport] of BROKERS) {
    describe(`${lib} over ${transport} with ${broker}`, () => {
      let mqtt;
      let b;
      before(async () => {
        mqtt = await load();
        b = await startCompatBroker(broker);
      });
      after(async () => b?.close());
      for (const [title, body] of TESTS) {
        it(title, { timeout: 30000 }, async () => {
          const url = broker === 'mosquitto'
            ? (transport === 'tcp' ? `mqtt://127.0.0.1:${b.tcpPort}` : b.ws)
            : (transport === 'tcp' ? b.tcp : b.ws);
          const topic = (name) => `compat/${lib === 'MQTT.js' ? 'mqttjs' : 'wasmqtt'}/${transport}/${name}/${unique++}`;
          await counted(lib, title, () => body({ mqtt, url, broker, topic }));
        });
      }
    });
  }
}

// In headless Chromium: the same tests in a page (pages/compat.html) that imports MQTT.js's
// browser build and wasmqtt, over WebSocket; the proxy runs here, driven from the page.
for (const lib of Object.keys(LIBRARIES)) {
  for (const broker of ['mosquitto', 'aedes']) {
    describe(`${lib} in Chromium with ${broker}`, { skip: SKIP_BROWSER }, () => {
      let b;
      let server;
      let browser;
      let page;
      const proxies = new Map();
      before(async () => {
        b = await startCompatBroker(broker);
        server = await serveStatic();
        browser = await launchBrowser();
        page = await browser.newPage();
        page.on('pageerror', (e) => console.error(`page error (${lib}, ${broker}):`, e.message));
        await page.exposeFunction('compatProxy', async (url) => {
          const p = await proxied(url);
          const key = String(proxies.size + 1);
          proxies.set(key, p.proxy);
          return { id: key, url: p.url };
        });
        // cut, block, unblock, stall, resume, close: what the tests ask of a proxy.
        await page.exposeFunction('compatProxyDo', async (key, method) => {
          await proxies.get(key)?.[method]();
          if (method === 'close') proxies.delete(key);
        });
        await page.goto(`${server.url}/tests/js/pages/compat.html`);
        await page.waitForFunction(() => window.compatReady === true, null, { timeout: 20000 });
      });
      after(async () => {
        for (const p of proxies.values()) await p.close();
        await browser?.close();
        await server?.close();
        await b?.close();
      });
      for (const [title] of TESTS) {
        it(title, { timeout: 30000 }, async () => {
          await counted(lib, title, async () => {
            const failure = await page.evaluate(([l, t, u, br]) => window.runCompat(l, t, u, br), [lib, title, b.ws, broker]);
            if (failure) throw new Error(failure);
          });
        });
      }
    });
  }
}
