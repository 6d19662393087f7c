// The test environment's own guarantees: what the other tests rely on to be deterministic.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePort } from './env.mjs';

// A port for a server to listen on later must not be one the kernel can hand out meanwhile as the
// source port of an outgoing connection: a cluster node that dials another node before that one
// listens takes a new source port on each retry, and once took the port its peer was given
// (CI: "node 3 exited (1) before it was ready": cannot listen, address already in use).
test('freePort gives distinct free ports outside the kernel ephemeral range', async () => {
  const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  const seen = new Set();
  for (let i = 0; i < 200; i++) {
    const port = await freePort();
    assert.ok(port >= 1024 && port < low, `port ${port} is in the ephemeral range from ${low}`);
    assert.ok(!seen.has(port), `port ${port} given twice`);
    seen.add(port);
    await new Promise((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => s.close(resolve));
    });
  }
});
