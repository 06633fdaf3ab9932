/**
 * Round-trip latency of a small request over CURVE on loopback (RequestClient -> RequestServer),
 * through the whole stack: ZAP-admitted connection, REQ envelope, async handler, reply.
 * Prints figures; asserts nothing. Run: npx tsx test/unit/zmq/latency.ts [COUNT]
 */
import { silentLogger } from '../../../shared/log.ts';
import { RequestClient } from '../../../shared/zmq/client.ts';
import { RequestServer } from '../../../shared/zmq/server.ts';
import { ZapHandler } from '../../../shared/zmq/zap.ts';
import { keys } from './helpers.ts';
import { freePort } from './ports.ts';

const count = Number(process.argv[2] ?? 1000);
const zap = new ZapHandler({ logger: silentLogger() });
await zap.start();
const serverKeys = keys();
const clientKeys = keys();
zap.setPolicy('bench', { allow: new Set([clientKeys.publicKey]) });
const port = await freePort();
const server = new RequestServer(
  { endpoints: [`tcp://127.0.0.1:${port}`], keys: serverKeys, zapDomain: 'bench' },
  { logger: silentLogger() },
);
await server.start(async (req) => [Buffer.from('pong'), req.frames[0]!]);
const client = new RequestClient(
  { endpoint: `tcp://127.0.0.1:${port}`, keys: clientKeys, serverKey: serverKeys.publicKey },
  { logger: silentLogger() },
);

const payload = [Buffer.from('ping'), Buffer.alloc(32, 7)];
for (let i = 0; i < 100; i++) await client.request(payload, { timeoutMs: 5_000 }); // warm-up
const samples: number[] = [];
const t0 = performance.now();
for (let i = 0; i < count; i++) {
  const t = performance.now();
  await client.request(payload, { timeoutMs: 5_000 });
  samples.push(performance.now() - t);
}
const total = performance.now() - t0;
samples.sort((a, b) => a - b);
const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!;
console.log(
  `CURVE REQ->ROUTER round trip, ${count} sequential requests (36-byte body), loopback: ` +
    `median ${(q(0.5) * 1000).toFixed(0)} µs, p90 ${(q(0.9) * 1000).toFixed(0)} µs, ` +
    `p99 ${(q(0.99) * 1000).toFixed(0)} µs, max ${(samples.at(-1)! * 1000).toFixed(0)} µs; ` +
    `${Math.round(count / (total / 1000))} req/s`,
);
client.close();
await server.stop();
await zap.stop();
