/** JSON-RPC calls from tests to a node process, authenticated with its cookie (or a given one). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeProcess } from './cluster.ts';

export interface RpcReply {
  readonly status: number;
  readonly body: { result?: unknown; error?: { code: number; message: string } } | undefined;
}

/** `timeoutMs`: fail when no answer comes in time (a SIGSTOPped node accepts and never answers). */
export async function rpc(
  node: NodeProcess,
  method: string,
  params: unknown[] = [],
  cookie?: string,
  timeoutMs?: number,
): Promise<RpcReply> {
  const auth = cookie ?? readFileSync(join(node.dir, '.cookie'), 'utf8').trim();
  const res = await fetch(`http://127.0.0.1:${node.rpcPort}/`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(auth).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    ...(timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(timeoutMs) }),
  });
  const text = await res.text();
  return { status: res.status, body: res.status === 200 ? JSON.parse(text) : undefined };
}

/** The result of a call that must succeed (throws with the error otherwise). */
export async function rpcResult<T = unknown>(
  node: NodeProcess,
  method: string,
  params: unknown[] = [],
): Promise<T> {
  const r = await rpc(node, method, params);
  if (r.body === undefined || r.body.error != null)
    throw new Error(`${method} failed: HTTP ${r.status} ${JSON.stringify(r.body?.error)}`);
  return r.body.result as T;
}
