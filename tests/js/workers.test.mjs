// The package in Web Workers, in headless Chromium against mosquitto: a dedicated module Worker
// runs the client with a persistent session (kept in the Worker's own IndexedDB), and the
// SharedWorker example (examples/shared-worker) gives every tab of a site one shared connection.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMosquitto, launchBrowser, serveStatic, sleep, waitFor as until } from './env.mjs';

const SKIP = process.env.WASMQTT_SKIP_BROWSER === '1' && 'browsers skipped (--quick)';

describe('wasmqtt in Web Workers (headless Chromium)', { skip: SKIP }, () => {
  let mosq;
  let server;
  let browser;
  before(async () => {
    mosq = await startMosquitto({ extra: 'log_type all' });
    server = await serveStatic();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await mosq?.close();
  });

  it('a dedicated Worker runs the client, its persistent session in the Worker\'s IndexedDB', { timeout: 60000 }, async () => {
    const page = await browser.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(e.message));
    const topic = `workers/dedicated/${Date.now()}`;
    await page.goto(`${server.url}/tests/js/pages/worker.html?broker=${encodeURIComponent(mosq.ws)}&topic=${encodeURIComponent(topic)}`);
    await page.waitForFunction(() => window.result !== undefined, null, { timeout: 30000 });
    const result = await page.evaluate(() => window.result);
    assert.equal(result.error, undefined, result.error);
    assert.deepEqual({ ...result, databases: undefined }, { topic: true, text: 'from a worker', qos: 1, databases: undefined });
    assert.ok(result.databases.includes('wasmqtt'), `the Worker's IndexedDB holds the session: ${result.databases}`);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('the SharedWorker example: tabs share one connection and one subscription per filter', { timeout: 60000 }, async () => {
    const context = await browser.newContext();
    const url = `${server.url}/examples/shared-worker/index.html?broker=${encodeURIComponent(mosq.ws)}`;
    const problems = [];
    const open = async () => {
      const page = await context.newPage();
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(url);
      return page;
    };
    const a = await open();
    const b = await open();
    const state = (p) => p.locator('#state').textContent();
    await until(async () => /^connected: one connection \(1 made\) shared by 2 tabs$/.test(await state(b)), 30000, 'both tabs on one connection');
    assert.match(await state(a), /shared by 2 tabs/);

    // Tab A subscribes; tab B publishes: A gets it, B (not subscribed) does not.
    const filter = `shared/${Date.now()}/#`;
    await a.fill('#subscribe input[name=filter]', filter);
    await a.click('#subscribe button');
    await until(async () => (await a.locator('#subscribed').textContent()) === `subscribed to ${filter}`, 10000, 'the subscription');
    await b.fill('#publish input[name=topic]', filter.replace('#', 'x'));
    await b.fill('#publish input[name=payload]', 'from tab B');
    await b.click('#publish button');
    await until(async () => (await a.locator('#log li').count()) === 1, 10000, 'the message in tab A');
    assert.equal(await a.locator('#log li').first().textContent(), `${filter.replace('#', 'x')} from tab B`);
    await sleep(300);
    assert.equal(await b.locator('#log li').count(), 0, 'tab B did not subscribe');

    // B subscribes to the same filter: no second SUBSCRIBE; both get the next message once.
    await b.fill('#subscribe input[name=filter]', filter);
    await b.click('#subscribe button');
    await until(async () => (await b.locator('#subscribed').textContent()) === `subscribed to ${filter}`, 10000, 'B\'s subscription');
    await a.fill('#publish input[name=topic]', filter.replace('#', 'y'));
    await a.fill('#publish input[name=payload]', 'to both');
    await a.click('#publish button');
    await until(async () => (await a.locator('#log li').count()) === 2 && (await b.locator('#log li').count()) === 1, 10000, 'the message in both tabs');
    await sleep(300);
    assert.equal(await a.locator('#log li').count(), 2);
    assert.equal(await b.locator('#log li').count(), 1);

    // The broker saw one client and one SUBSCRIBE for that filter.
    const log = mosq.log();
    assert.equal((log.match(/New client connected from .* as tabs-/g) ?? []).length, 1, 'one connection for both tabs');
    assert.equal(log.split('\n').filter((l) => l.includes('Received SUBSCRIBE from tabs-')).length, 1, 'one SUBSCRIBE for the shared filter');

    // A tab that leaves gives up its subscriptions; the other keeps the connection.
    await a.close({ runBeforeUnload: true });
    await until(async () => /shared by 1 tab$/.test(await state(b)), 10000, 'B alone');
    assert.deepEqual(problems, []);
    await context.close();
  });
});
