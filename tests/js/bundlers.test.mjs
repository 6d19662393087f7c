// The package as applications build it: the same tiny page (apps/app.js) built by Vite (its dev
// server and a production build), webpack 5, esbuild and Rollup, and a TypeScript version
// (apps/app.ts, MQTT.js code) checked with `tsc --strict` against MQTT.js's types and wasmqtt's,
// then run with no bundler through an import map. Each is loaded in headless Chromium and
// round-trips a QoS 1 message through mosquitto. README's "With a bundler" gives each recipe as
// these builds use it.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startMosquitto, launchBrowser, serveStatic } from './env.mjs';

const SKIP = process.env.WASMQTT_SKIP_BROWSER === '1' && 'browsers skipped (--quick)';
const here = fileURLToPath(new URL('.', import.meta.url));
const apps = `${here}apps/`;
const builds = `${apps}.build/`;
const pkg = `${here}node_modules/wasmqtt/`;

/** A fresh output folder for one build. */
function outDir(name) {
  const dir = `${builds}${name}/`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The recipe for bundlers that leave `new URL('…wasm', import.meta.url)` alone: copy the wasm beside the bundle. */
function copyWasmAndPage(dir) {
  copyFileSync(`${pkg}wasmqtt_core_bg.wasm`, `${dir}wasmqtt_core_bg.wasm`);
  copyFileSync(`${pkg}wasmqtt_codec_bg.wasm`, `${dir}wasmqtt_codec_bg.wasm`);
  copyFileSync(`${apps}index.html`, `${dir}index.html`);
}

/** TypeScript against `wasmqtt/codec`'s declarations (compiled with the tsc build, not run). */
const CODEC_TS = `import codec, { init, encodePacket, decodePacket, Parser, MqttCodecError } from 'wasmqtt/codec';
import type { Packet, IPublishPacket, ProtocolVersion } from 'wasmqtt/codec';

export async function roundTrip(packet: IPublishPacket, version: ProtocolVersion = 5): Promise<Packet[]> {
  await init();
  await codec.ready();
  const bytes: Uint8Array = encodePacket(packet, version);
  const parser = new Parser(version, { maxPacketSize: 1024 });
  try {
    const one: Packet = decodePacket(bytes, version);
    return [one, ...parser.push(bytes)];
  } catch (e) {
    if (e instanceof MqttCodecError) console.log(e.rule ?? '', e.reasonCode ?? 0);
    throw e;
  } finally {
    parser.free();
  }
}
`;

/** Each build: its name and how it makes a folder to serve (or a running server's URL). */
const BUILDS = {
  async esbuild() {
    const esbuild = await import('esbuild');
    const dir = outDir('esbuild');
    await esbuild.build({ entryPoints: [`${apps}app.js`], bundle: true, format: 'esm', platform: 'browser', minify: true, outfile: `${dir}app.js`, logLevel: 'warning' });
    copyWasmAndPage(dir);
    return { dir };
  },

  async rollup() {
    const { rollup } = await import('rollup');
    const { nodeResolve } = await import('@rollup/plugin-node-resolve');
    const dir = outDir('rollup');
    const warnings = [];
    const bundle = await rollup({ input: `${apps}app.js`, plugins: [nodeResolve({ browser: true })], onwarn: (w) => warnings.push(w.message) });
    await bundle.write({ dir, format: 'es' });
    await bundle.close();
    assert.deepEqual(warnings, [], 'Rollup warned');
    copyWasmAndPage(dir);
    return { dir };
  },

  async webpack() {
    const webpack = (await import('webpack')).default;
    const dir = outDir('webpack');
    const stats = await new Promise((resolve, reject) => webpack({
      mode: 'production', target: 'web', entry: `${apps}app.js`, output: { path: dir, filename: 'app.js' }, context: apps,
    }, (err, s) => (err ? reject(err) : resolve(s))));
    assert.ok(!stats.hasErrors(), stats.toString('errors-only'));
    // webpack's one warning is its size hint: the client wasm (267 KB, 111 KB gzip) is above its
    // 244 KiB recommendation for any single asset (README says so).
    const warnings = stats.toJson({ all: false, warnings: true }).warnings.map((w) => w.message);
    assert.deepEqual(warnings.filter((w) => !/asset size limit|performance recommendations/.test(w)), [], 'webpack warned');
    // webpack 5 emits the wasm itself (it understands new URL(…, import.meta.url)): both modules.
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.wasm')).length, 2, 'webpack did not emit both .wasm modules');
    copyFileSync(`${apps}index.html`, `${dir}index.html`);
    return { dir };
  },

  async 'vite build'() {
    const vite = await import('vite');
    const dir = outDir('vite');
    await vite.build({ root: apps, configFile: false, logLevel: 'warn', build: { outDir: dir, emptyOutDir: true } });
    assert.equal(readdirSync(`${dir}assets`).filter((f) => f.endsWith('.wasm')).length, 2, 'Vite did not emit both .wasm modules');
    return { dir };
  },

  async 'vite dev server'() {
    const vite = await import('vite');
    // No setting: Vite 8's dependency pre-bundling keeps the wasm reachable from the package.
    // The pre-bundle is redone each run (optimizeDeps.force): Vite keys its cache by the
    // package's version, which a rebuilt package keeps, and a stale glue does not match a new
    // wasm ("function import requires a callable").
    const server = await vite.createServer({
      root: apps, configFile: false, logLevel: 'warn', optimizeDeps: { force: true },
      server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, watch: null },
    });
    await server.listen();
    const address = server.httpServer.address();
    return { url: `http://127.0.0.1:${address.port}`, close: () => server.close() };
  },

  async 'tsc --strict, no bundler'() {
    const dir = outDir('tsc');
    const tsc = `${here}node_modules/.bin/tsc`;
    // The MQTT.js program is MQTT.js code: it compiles against MQTT.js's own types.
    execFileSync(tsc, ['-p', `${apps}tsconfig.json`, '--noEmit'], { encoding: 'utf8', stdio: 'pipe' });
    // Only the import changes, and it compiles against wasmqtt's types.
    const source = readFileSync(`${apps}app.ts`, 'utf8');
    assert.match(source, /from 'mqtt'/);
    writeFileSync(`${dir}app.ts`, source.replaceAll("from 'mqtt'", "from 'wasmqtt'"));
    // And the codec entry's types, as an mqtt-packet user writes against them.
    writeFileSync(`${dir}codec.ts`, CODEC_TS);
    writeFileSync(`${dir}tsconfig.json`, readFileSync(`${apps}tsconfig.json`, 'utf8')
      .replace('"outDir": "out"', '"outDir": "."').replace('"files": ["app.ts"]', '"files": ["app.ts", "codec.ts"]'));
    try {
      execFileSync(tsc, ['-p', `${dir}tsconfig.json`], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      assert.fail(`tsc --strict failed on MQTT.js code importing wasmqtt:\n${e.stdout}${e.stderr}`);
    }
    copyFileSync(`${pkg}wasmqtt.js`, `${dir}wasmqtt.js`);
    copyFileSync(`${pkg}wasmqtt_core_bg.wasm`, `${dir}wasmqtt_core_bg.wasm`);
    writeFileSync(`${dir}index.html`, '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>wasmqtt from TypeScript</title>'
      + '<script type="importmap">{"imports":{"wasmqtt":"./wasmqtt.js"}}</script><script type="module" src="./app.js"></script>');
    return { dir };
  },
};

describe('the package built by bundlers, in headless Chromium', { skip: SKIP }, () => {
  let mosq;
  let browser;
  before(async () => {
    mosq = await startMosquitto({});
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await mosq?.close();
    rmSync(builds, { recursive: true, force: true });
  });

  for (const [name, make] of Object.entries(BUILDS)) {
    it(`${name}: builds, loads its wasm and round-trips a QoS 1 message`, { timeout: 120000 }, async () => {
      const built = await make();
      const server = built.dir ? await serveStatic({}, built.dir) : built;
      const page = await browser.newPage();
      const problems = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
      try {
        const label = name.replace(/\W+/g, '-');
        await page.goto(`${server.url}/index.html?broker=${encodeURIComponent(mosq.ws)}&name=${label}`);
        await page.waitForFunction(() => window.result !== undefined, null, { timeout: 30000 })
          .catch((e) => { throw new Error(`${e.message}\n${problems.join('\n')}`); });
        const result = await page.evaluate(() => window.result);
        assert.equal(result.error, undefined, `${result.error}\n${problems.join('\n')}`);
        assert.equal(result.topic, true);
        assert.equal(result.text, `hello from ${label}`);
        assert.equal(result.qos, 1);
        // The tsc page is MQTT.js code and leaves the codec out.
        if (!name.startsWith('tsc')) assert.equal(result.codec, true, 'the codec entry re-encoded the packet');
        assert.deepEqual(problems.filter((p) => !/favicon/.test(p)), [], 'the page reported problems');
      } finally {
        await page.close();
        await server.close();
      }
    });
  }

  it('README gives the recipe each of these builds uses', () => {
    const readme = readFileSync(`${here}../../README.md`, 'utf8');
    for (const word of ['Vite', 'wasmqtt_core_bg.wasm', 'webpack', 'Rollup', 'esbuild', 'importmap']) {
      assert.ok(readme.includes(word), `README's bundler recipes lack ${word}`);
    }
  });
});
