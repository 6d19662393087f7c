// Headless Chromium for page-level tests: a static server for the repository and `chromium
// --dump-dom`, all on loopback.

import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, extname, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json' };

/**
 * Serves `root` (default: the repository) on 127.0.0.1; `pages` maps extra paths to HTML, or
 * to a function of the query's parameters whose result is sent as JSON; `headers` go on every
 * response.
 */
export async function serveStatic(pages = {}, root = repoRoot, headers = {}) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (typeof pages[path] === 'function') {
      // A handler: its result goes back as JSON (tests drive helpers from a page this way).
      try {
        const out = await pages[path](new URL(req.url, 'http://x').searchParams);
        res.writeHead(200, { ...headers, 'content-type': 'application/json' });
        res.end(JSON.stringify(out ?? null));
      } catch (e) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(e?.stack ?? e));
      }
      return;
    }
    if (pages[path] !== undefined) {
      res.writeHead(200, { ...headers, 'content-type': 'text/html' });
      res.end(pages[path]);
      return;
    }
    const file = normalize(join(root, path));
    if (!file.startsWith(root)) { res.writeHead(403); res.end(); return; }
    try {
      const body = await readFile(file);
      res.writeHead(200, { ...headers, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((ok) => server.close(ok)) };
}

/**
 * Removes a Chromium profile folder. Chromium's helper processes can still be writing into it for
 * a moment after the browser is gone (ENOTEMPTY): retry for a few seconds, and never fail a test
 * or lose a benchmark's results over a temporary folder.
 */
export async function removeProfile(dir) {
  for (let i = 0; ; i++) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
      return;
    } catch (e) {
      if (i === 20) {
        console.error(`could not remove Chromium's profile ${dir}: ${e.message}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Loads `url` in headless Chromium and returns the DOM after `budgetMs` of virtual time. */
export async function dumpDom(url, budgetMs = 5000) {
  const profile = mkdtempSync(join(tmpdir(), 'wasmqtt-chromium-'));
  try {
    return await new Promise((resolve, reject) => {
      const p = spawn(CHROMIUM, [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, `--virtual-time-budget=${budgetMs}`, '--dump-dom', url], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      p.stdout.on('data', (d) => { out += d; });
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`chromium exited with ${code}`))));
    });
  } finally {
    await removeProfile(profile);
  }
}
