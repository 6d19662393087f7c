// The README's first command as a newcomer runs it: `cargo xtask dev` (the embedded broker,
// simulated devices, the dashboard built and served by trunk), then the page it prints, in
// headless Chromium. The page must connect to the default broker by itself, show every device
// live, and log no error to the console (a broken `trunk serve` once logged a failed WebSocket
// to `ws://{{__trunk_address__}}` on every load, and no test saw it).
//
// Not a `*.test.mjs`: `cargo xtask test` runs it alone, before the Node tests, since trunk
// writes dist/ as it builds; the dashboard's tests then use that same build.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, launchBrowser, waitFor } from './env.mjs';

const DEVICES = 12;
const root = fileURLToPath(new URL('../..', import.meta.url));
const port = await freePort();

const dev = spawn('cargo', ['xtask', 'dev', '--devices', String(DEVICES), '--port', String(port)], {
  cwd: root,
  detached: true, // its own process group, stopped whole at the end
  stdio: ['pipe', 'pipe', 'inherit'],
});
let exited = null;
dev.on('exit', (code, signal) => { exited = signal ?? `exit code ${code}`; });
const stop = () => { try { process.kill(-dev.pid, 'SIGTERM'); } catch { /* already gone */ } };
process.on('exit', stop);

let page_url = null;
let out = '';
dev.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  out += chunk;
  page_url ??= out.match(/dashboard:\s+(http:\/\/\S+)/)?.[1] ?? null;
});

const fail = (why) => { console.error(`the main job: ${why}`); stop(); process.exit(1); };
const running = () => { if (exited) fail(`\`cargo xtask dev\` exited (${exited}) before its page was ready`); return true; };

try {
  // A fresh clone compiles the dashboard here: minutes.
  await waitFor(() => running() && page_url !== null, 20 * 60_000, 'the page address in the output of `cargo xtask dev`');
  if (!page_url.startsWith(`http://127.0.0.1:${port}/`)) fail(`it printed ${page_url}, not a page on port ${port}`);
  await waitFor(async () => running() && await fetch(page_url).then((r) => r.ok, () => false), 20 * 60_000, `trunk serving ${page_url}`);

  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  await page.goto(page_url);
  await waitFor(() => page.textContent('[data-testid=conn-state]').then((t) => t?.includes('connected'), () => false), 60_000,
    'the page to connect to the embedded broker by itself');
  await waitFor(() => page.textContent('[data-testid=census-online]').then((t) => t === String(DEVICES), () => false), 60_000,
    `${DEVICES} devices online`);
  // Live data: the devices' telemetry reaches the message log.
  await page.click('#tab-messages');
  await waitFor(() => page.locator('[data-testid=log-row]').count().then((n) => n > 0), 60_000, 'messages in the log');
  await browser.close();
  if (problems.length) fail(`the page reported:\n  ${problems.join('\n  ')}`);
  console.log(`the main job: ${page_url} connected by itself, ${DEVICES} devices live, messages flowing, no console error`);
} catch (e) {
  fail(e.message);
}
stop();
await waitFor(() => exited !== null, 30_000, '`cargo xtask dev` to stop').catch((e) => fail(e.message));
process.exit(0);
