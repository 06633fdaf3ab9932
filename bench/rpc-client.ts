/**
 * A JSON-RPC client for benchmarks: node:http with keep-alive, as bitcoin-cli and most RPC clients
 * (fetch, undici, costs the client several times more CPU per request, on the same two cores as
 * the node). `sockets`: connections kept open, one per concurrent caller.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import type { NodeProcess } from '../test/helpers/cluster.ts';

export function rpcClient(node: NodeProcess, sockets: number) {
  const auth = `Basic ${Buffer.from(readFileSync(join(node.dir, '.cookie'), 'utf8').trim()).toString('base64')}`;
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const call = <T = unknown>(method: string, params: unknown[] = []) =>
    new Promise<T>((resolve, reject) => {
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method, params });
      const req = request(
        {
          host: '127.0.0.1',
          port: node.rpcPort,
          method: 'POST',
          path: '/',
          agent,
          headers: {
            authorization: auth,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const j = JSON.parse(Buffer.concat(chunks).toString()) as {
              result?: T;
              error?: { message: string };
            };
            if (j.error) reject(new Error(`${method}: ${j.error.message}`));
            else resolve(j.result as T);
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { call, close: () => agent.destroy() };
}
