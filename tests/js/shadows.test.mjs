// End to end (issue 12): device shadows in the dashboard as trunk builds it, in headless
// Chromium, against the dev tool's broker and simulated devices, which keep the shadow
// convention (xtask/fleet/src/twin.rs). A rollout to part of the fleet converges and is shown
// converging; a device that refuses shows rejected; reports out of order never move the shown
// state backwards.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from './env.mjs';
import { liveDashboard } from './e2e.mjs';

const SKIP = process.env.WASMQTT_SKIP_BROWSER === '1' && 'browsers skipped (--quick)';


const rollout = (page, n) => page.evaluate((n) => {
  const el = [...document.querySelectorAll('[data-testid=rollout]')].find((e) => e.dataset.rollout === String(n));
  if (!el) return null;
  const d = el.dataset;
  return { total: +d.total, inSync: +d.inSync, pending: +d.pending, upgrading: +d.upgrading, rejected: +d.rejected, failed: +d.failed, superseded: +d.superseded };
}, n);

test('shadows: desired edits, a refusal, out-of-order reports, and rollouts converging', { skip: SKIP, timeout: 240_000 }, async () => {
  const live = await liveDashboard({ observerId: 'e2e-shadow-observer' });
  const { fleet, server, observer, page, problems } = live;
  try {
    await page.goto(`${server.url}/index.html?broker=${encodeURIComponent(fleet.ws)}#devices`);
    await page.waitForSelector('[data-testid=conn-state]:text("connected")', { timeout: 30_000 });
    await until('20 devices online', () => page.textContent('[data-testid=census-online]').then((t) => t === '20'));

    // Out of order: version v+1, then v again with other values. The shown state stays at v+1
    // and says it ignored one. (Only one step ahead of the device: its own next report, v+1,
    // is then a duplicate, and the one after is shown.)
    await page.click('[data-device=dev-0005] [data-testid=open-device]');
    const panel = page.locator('[data-testid=device-shadow][data-device=dev-0005]');
    await until('dev-0005 reported', () => panel.locator('[data-testid=shadow-reported]').textContent().then((t) => t.includes('firmware')));
    const v = Number(/v(\d+)/.exec(await panel.locator('[data-testid=shadow-reported-version]').textContent())[1]);
    const doc = (version, setpoint) => JSON.stringify({ version, state: { firmware: '1.3.0', interval_ms: 1000, setpoint } });
    await observer.publishAsync('devices/dev-0005/shadow/reported', doc(v + 1, 33), { qos: 1 });
    await until(`v${v + 1} shown`, () => panel.locator('[data-testid=shadow-reported-version]').textContent().then((t) => t.includes(`v${v + 1} `)));
    await observer.publishAsync('devices/dev-0005/shadow/reported', doc(v, 5), { qos: 1 });
    await until('the stale report counted', () => panel.locator('[data-testid=shadow-counts]').textContent().then((t) => t.includes('1 stale ignored')));
    assert.match(await panel.locator('[data-testid=shadow-reported-version]').textContent(), new RegExp(`v${v + 1} `));
    assert.match(await panel.locator('[data-testid=shadow-reported]').textContent(), /"setpoint": 33/);
    assert.match(await panel.locator('[data-testid=shadow-history]').textContent(), new RegExp(`ignored reported v${v}: older than v${v + 1}`));
    await panel.locator('[data-testid=shadow-close]').click();

    // The desired state edited as JSON: what is not JSON cannot be sent and says why.
    await page.click('[data-device=dev-0002] [data-testid=open-device]');
    const p2 = page.locator('[data-testid=device-shadow][data-device=dev-0002]');
    await until('dev-0002 reported', () => p2.locator('[data-testid=shadow-reported]').textContent().then((t) => t.includes('firmware')));
    // While the page is open, the shown reported version of dev-0002 never goes back.
    await page.evaluate(() => {
      window.__versions = [];
      setInterval(() => {
        const t = document.querySelector('[data-device=dev-0002] [data-testid=shadow-reported-version]')?.textContent ?? '';
        const m = /v(\d+)/.exec(t);
        if (m) window.__versions.push(+m[1]);
      }, 50);
    });
    await p2.locator('[data-testid=desired-editor]').fill('{"setpoint": ');
    assert.match(await p2.locator('[data-testid=desired-status]').textContent(), /not valid JSON/);
    assert.equal(await p2.locator('[data-testid=set-desired]').isDisabled(), true);
    await p2.locator('[data-testid=desired-editor]').fill('[1, 2]');
    assert.match(await p2.locator('[data-testid=desired-status]').textContent(), /must be a JSON object/);

    // A value the device refuses: shown rejected, with its reason, in the panel and on the board.
    await p2.locator('[data-testid=desired-editor]').fill('{"setpoint": 99}');
    await p2.locator('[data-testid=set-desired]').click();
    await until('dev-0002 rejected', () => p2.locator('[data-testid=shadow-sync]').getAttribute('data-sync').then((s) => s === 'rejected'));
    assert.match(await p2.locator('[data-testid=shadow-sync]').textContent(), /setpoint 99 out of 5\.\.35/);
    assert.equal(await page.getAttribute('[data-device=dev-0002] [data-testid=device-sync]', 'data-sync'), 'rejected');
    // A value it takes: in sync.
    await p2.locator('[data-testid=desired-editor]').fill('{"setpoint": 24.5}');
    await p2.locator('[data-testid=set-desired]').click();
    await until('dev-0002 in sync', () => p2.locator('[data-testid=shadow-sync]').getAttribute('data-sync').then((s) => s === 'in-sync'));
    assert.match(await p2.locator('[data-testid=shadow-reported]').textContent(), /"setpoint": 24.5/);
    const history = await p2.locator('[data-testid=shadow-history]').textContent();
    assert.match(history, /rejected desired v1: setpoint 99/);
    assert.match(history, /desired v1 set here: setpoint/);
    assert.match(history, /desired v2 set here: setpoint/);
    // A command and its answer in the history.
    await p2.locator('[data-testid=command-input]').fill('{"interval_ms": 900}');
    await p2.locator('[data-testid=command-input]').press('Enter');
    await until('the command answered', () => p2.locator('[data-testid=shadow-history]').textContent().then((t) => t.includes('command answer') && t.includes('"ok":true')));

    // A rollout: 10% of the fleet first, then the rest; watched converging.
    await page.click('[data-testid=tab-fleet]');
    await page.fill('[data-testid=rollout-patch]', '{"firmware": "1.4.0"}');
    await page.fill('[data-testid=rollout-share]', '10');
    await page.click('[data-testid=rollout-start]');
    assert.match(await page.textContent('[data-testid=rollout-status]'), /rollout 1: desired state set on 2 devices/);
    const settled = (r) => r && r.pending === 0 && r.upgrading === 0 && r.inSync + r.failed + r.rejected + r.superseded === r.total;
    await until('the canary settled', () => rollout(page, 1).then(settled), 60_000);
    assert.equal((await rollout(page, 1)).total, 2);
    await page.click('[data-rollout="1"] [data-testid=rollout-rest]');
    const seen = [];
    await until(() => `the whole fleet settled (last seen ${JSON.stringify(seen.at(-1))})`, async () => {
      const r = await rollout(page, 1);
      seen.push(r);
      return r.total === 20 && settled(r);
    }, 90_000);
    const last = seen.at(-1);
    // A few percent of upgrades fail, as real ones do; most converge.
    assert.ok(last.inSync >= 15, `only ${last.inSync} of 20 in sync (${JSON.stringify(last)})`);
    assert.equal(last.rejected, 0, 'nothing in this rollout is refused');
    // Shown converging: the count in sync only grew, and was seen part way.
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i].inSync >= seen[i - 1].inSync, 'in sync went back');
    assert.ok(seen.some((r) => r.inSync > 2 && r.inSync < last.inSync) || seen.length < 3, 'never seen part way');

    // A change some devices refuse: 2.0.0 is not built for the PM-3 power meters.
    await page.fill('[data-testid=rollout-patch]', '{"firmware": "2.0.0"}');
    await page.fill('[data-testid=rollout-filter]', 'PM-3');
    await page.fill('[data-testid=rollout-share]', '100');
    await page.click('[data-testid=rollout-start]');
    await until('the PM-3 rollout refused', () => rollout(page, 2).then((r) => r && r.total > 0 && r.rejected === r.total));
    // The first rollout does not count them as its own refusals: they were given another change.
    const first = await rollout(page, 1);
    assert.equal(first.rejected, 0, JSON.stringify(first));
    assert.equal(first.superseded, (await rollout(page, 2)).total);

    const versions = await page.evaluate(() => window.__versions);
    assert.ok(versions.length > 10, 'the version was sampled');
    for (let i = 1; i < versions.length; i++) assert.ok(versions[i] >= versions[i - 1], `the reported version went back: ${versions[i - 1]} then ${versions[i]}`);
    assert.deepEqual(problems, []);
  } finally {
    await live.close();
  }
});
