// Runs the batch property (batches.mjs) in a Node process of its own, so that the handlers'
// errors, which reach Node as uncaught exceptions, are counted here and not taken by the test
// runner for the test's own failures. Prints {got, sent, uncaught} as JSON.
//   node batches-node.mjs SEED [N]

import wasmqtt from './helpers.mjs';
import { batchBroker, driveBatches } from './batches.mjs';

const uncaught = [];
process.on('uncaughtException', (e) => uncaught.push(String(e?.message ?? e)));
const seed = Number(process.argv[2]);
const n = Number(process.argv[3] ?? 300);
const broker = await batchBroker(seed, n);
const got = await driveBatches({ url: broker.url, seed, n }, wasmqtt);
await new Promise((r) => setTimeout(r, 100)); // Node reports them after the current task
broker.close();
process.stdout.write(JSON.stringify({ got, sent: broker.sent, uncaught }));
process.exit(0);
