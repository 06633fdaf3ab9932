/**
 * A JSON-RPC client for benchmarks: node:http with keep-alive, as bitcoin-cli and most RPC clients
 * (fetch, undici, costs the client several times more CPU per request, on the same two cores as
 * the node). `sockets`: connections kept open, one per concurrent caller. Serves cairnd (cookie
 * auth, JSON-RPC 2.0) and bcoin (its API key, 1.0 envelope) alike.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import type { NodeProcess } from '../test/helpers/cluster.ts';

export interface JsonRpcTarget {
  readonly port: number;
  /** `user:password` for HTTP Basic. */
  readonly credentials: string;
  /** The request envelope: '2.0' adds `jsonrpc: "2.0"`; '1.0' is Bitcoin Core's original one. */
  readonly version: '1.0' | '2.0';
  /** Prefix of error messages (which node answered). */
  readonly label?: string;
}

export function jsonRpcClient(target: JsonRpcTarget, sockets: number) {
  const auth = `Basic ${Buffer.from(target.credentials).toString('base64')}`;
  let agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const prefix = target.label === undefined ? '' : `${target.label} `;
  const call = <T = unknown>(method: string, params: unknown[] = []) =>
    new Promise<T>((resolve, reject) => {
      const body = JSON.stringify(
        target.version === '2.0' ? { jsonrpc: '2.0', id: 1, method, params } : { method, params, id: 1 },
      );
      const req = request(
        {
          host: '127.0.0.1',
          port: target.port,
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
            try {
              const j = JSON.parse(Buffer.concat(chunks).toString()) as {
                result?: T;
                error?: { message: string } | null;
              };
              if (j.error) reject(new Error(`${prefix}${method}: ${j.error.message}`));
              else resolve(j.result as T);
            } catch (err) {
              reject(err);
            }
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return {
    call,
    /**
     * New connections for the next calls: a keep-alive socket left idle past the server's timeout
     * can be closed under a request ("socket hang up").
     */
    reconnect: () => {
      agent.destroy();
      agent = new Agent({ keepAlive: true, maxSockets: sockets });
    },
    close: () => agent.destroy(),
  };
}

/** Where and how to call a cairnd's RPC, with the cookie from its data directory. */
export function rpcTarget(node: NodeProcess): JsonRpcTarget {
  const cookie = readFileSync(join(node.dir, '.cookie'), 'utf8').trim();
  return { port: node.rpcPort, credentials: cookie, version: '2.0' };
}

/** A cairnd's RPC, with the cookie from its data directory. */
export function rpcClient(node: NodeProcess, sockets: number) {
  return jsonRpcClient(rpcTarget(node), sockets);
}
