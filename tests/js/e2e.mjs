// What the dashboard's end-to-end tests share: the dev tool's broker and simulated devices, the
// dashboard as trunk built it, headless Chromium with a page open on it, and an MQTT.js
// observer on the broker's TCP listener.

import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { serveStatic, launchBrowser, startFleet } from './env.mjs';

/** Starts it all; `close()` stops it all. `problems` collects the page's uncaught errors. */
export async function liveDashboard({ devices = 20, observerId = 'e2e-observer' } = {}) {
  const dist = process.env.WASMQTT_DIST;
  assert.ok(dist, 'WASMQTT_DIST is not set: run through `cargo xtask test`, which builds the dashboard with trunk');
  const fleet = await startFleet({ devices });
  const server = await serveStatic({}, dist.endsWith('/') ? dist : dist + '/');
  const browser = await launchBrowser();
  const observer = await mqtt.connectAsync(`mqtt://127.0.0.1:${fleet.tcp}`, { protocolVersion: 5, clientId: observerId });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e}`));
  const close = async () => {
    await page.close();
    await observer.endAsync();
    await browser.close();
    await server.close();
    await fleet.close();
  };
  return { fleet, server, browser, observer, page, problems, close };
}
