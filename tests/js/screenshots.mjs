// Screenshots of the dashboard's main views for docs/ (README shows them): the dashboard built by
// trunk, the dev tool's broker and 200 simulated devices, headless Chromium. `cargo xtask
// screenshots` runs it (WASMQTT_DIST and WASMQTT_FLEET as for the tests).
//
//   node tests/js/screenshots.mjs [out-dir] [seconds-of-data-first]

import { mkdirSync } from 'node:fs';
import mqtt from 'mqtt';
import { serveStatic, launchBrowser, startFleet, sleep } from './env.mjs';

const OUT = process.argv[2] ?? 'docs';
const WARM = Number(process.argv[3] ?? 75);

mkdirSync(OUT, { recursive: true });
const fleet = await startFleet({ devices: 200, intervalMs: 1500, crashEveryS: 240 });
const server = await serveStatic({}, process.env.WASMQTT_DIST.replace(/\/?$/, '/'));
const browser = await launchBrowser();
const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
try {
  await page.goto(`${server.url}/index.html?broker=${encodeURIComponent(fleet.ws)}#devices`);
  await page.waitForSelector('[data-testid=conn-state]:text("connected")', { timeout: 30_000 });
  await page.fill('[data-testid=sub-filter]', 'devices/+/status');
  await page.selectOption('.sub-form select', '1');
  await page.click('[data-testid=sub-add]');
  // Charts from the start, so they have the warm-up's data.
  await page.click('[data-testid=tab-charts]');
  for (const id of ['dev-0001', 'dev-0002', 'dev-0003']) {
    await page.fill('[data-testid=chart-topic]', `devices/${id}/telemetry`);
    await page.fill('[data-testid=chart-path]', 'temp');
    await page.click('[data-testid=chart-add]');
  }
  // A couple of devices crash for the picture, and a command goes out.
  const ops = await mqtt.connectAsync(`mqtt://127.0.0.1:${fleet.tcp}`, { protocolVersion: 5 });
  await sleep(WARM * 1000 - 10_000);
  for (const id of ['dev-0004', 'dev-0011']) await ops.publishAsync(`devices/${id}/cmd`, 'crash', { qos: 1 });
  await sleep(10_000);
  await page.click('[data-testid=pub-send]');
  await sleep(1500);

  await page.click('[data-testid=tab-devices]');
  await sleep(800);
  await page.screenshot({ path: `${OUT}/devices.png` });

  // A device's shadow: a desired change it takes, one it refuses.
  await page.click('[data-device=dev-0007] [data-testid=open-device]');
  const shadow = page.locator('[data-testid=device-shadow]');
  await shadow.locator('[data-testid=desired-editor]').fill('{"setpoint": 99}');
  await shadow.locator('[data-testid=set-desired]').click();
  await sleep(1500);
  await shadow.locator('[data-testid=desired-editor]').fill('{"setpoint": 23.5, "interval_ms": 1000, "firmware": "1.4.0"}');
  await shadow.locator('[data-testid=set-desired]').click();
  await sleep(2500);
  await page.screenshot({ path: `${OUT}/device-shadow.png` });
  await shadow.locator('[data-testid=shadow-close]').click();

  // A firmware rollout: 10% first, then the rest, caught converging; the alerts above it.
  await page.click('[data-testid=tab-fleet]');
  await page.fill('[data-testid=rollout-patch]', '{"firmware": "1.4.0"}');
  await page.click('[data-testid=rollout-start]');
  await sleep(6000);
  await page.click('[data-rollout="1"] [data-testid=rollout-rest]');
  await page.fill('[data-testid=rollout-patch]', '{"firmware": "2.0.0"}');
  await page.fill('[data-testid=rollout-filter]', 'PM-3');
  await page.fill('[data-testid=rollout-share]', '100');
  await page.click('[data-testid=rollout-start]');
  await sleep(3500);
  await page.screenshot({ path: `${OUT}/fleet.png` });

  await page.click('[data-testid=tab-charts]');
  await sleep(800);
  const box = await page.locator('[data-testid=chart-svg]').boundingBox();
  await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2);
  await sleep(500);
  await page.screenshot({ path: `${OUT}/charts.png` });

  await page.click('[data-testid=tab-messages]');
  await sleep(800);
  await page.locator('[data-testid=log-row]', { hasText: 'telemetry' }).nth(2).click();
  await page.selectOption('.log .toolbar select', 'JSON');
  await sleep(800);
  await page.screenshot({ path: `${OUT}/messages.png` });

  await page.click('[data-testid=tab-topics]');
  await sleep(500);
  await page.click('.tree-row .twisty');
  await sleep(300);
  await page.locator('.tree-row .twisty').nth(1).click();
  await sleep(300);
  await page.locator('.tree-row .tree-name', { hasText: 'telemetry' }).first().click();
  await sleep(800);
  await page.screenshot({ path: `${OUT}/topics.png` });

  await page.click('[data-testid=tab-health]');
  await sleep(800);
  await page.screenshot({ path: `${OUT}/health.png` });

  // Dark, and a narrow screen.
  await page.click('[data-testid=tab-devices]');
  await page.click('.theme');
  await page.click('.theme');
  await sleep(800);
  await page.screenshot({ path: `${OUT}/devices-dark.png` });
  await page.setViewportSize({ width: 420, height: 860 });
  await sleep(800);
  await page.screenshot({ path: `${OUT}/mobile-dark.png` });
  await ops.endAsync();
  console.log(`screenshots in ${OUT}/`);
} finally {
  await browser.close();
  await server.close();
  await fleet.close();
}
