/**
 * JSON-RPC 2.0 (https://www.jsonrpc.org/specification), strictly: every request object must carry
 * `"jsonrpc": "2.0"`. Bitcoin Core's legacy 1.0 dialect (`"jsonrpc": "1.0"` or no member, errors
 * with `result: null`) is NOT accepted: such a request gets -32600. bitcoin-cli ≥ 28 and every
 * 2.0 client library work as they are.
 *
 * - parse error → -32700 with id null; an empty batch → one -32600 error;
 * - a request object must have `jsonrpc: "2.0"`, a string `method`, optional `params` (array or
 *   object), and an `id` that is a string, a number or null; else -32600 (with its id when that is
 *   valid, else null). Other members are ignored;
 * - a notification (no `id` member) is run but gets no response; a body of only notifications
 *   gives `undefined` (the server answers HTTP 204);
 * - unknown method → -32601; RpcError from a method → its code, message and data; any other error
 *   → -32603 "internal error" (logged here, with stack; the client gets no detail).
 *
 * Results are serialised with `jsonReplacer`: bigint → decimal string; an `undefined` result → null.
 */
import type { Logger } from '../../../shared/log.ts';
import { type MethodRegistry, RPC, type RpcContext, RpcError, validateParams } from './method.ts';

export type JsonRpcId = string | number | null;

export interface JsonRpcOptions {
  logger?: Logger;
  /** Most requests in one batch (default 1000); a bigger batch is one -32600 error. */
  maxBatch?: number;
  /**
   * Told of every call of a method: its name (`(unknown)` for a method not registered, so a client
   * cannot grow the label set) and `ok` or the JSON-RPC error code (for /metrics).
   */
  onCall?: OnCall;
}

export type OnCall = (method: string, status: string) => void;

/** Raw bytes would serialise as `{"0":..}`: methods must render them (hex, display order) themselves. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString(10);
  if (value instanceof Uint8Array) {
    throw new TypeError('an RPC result holds raw bytes (Uint8Array); render them as hex');
  }
  return value;
}

/** An error response as a string (also used by the server for HTTP-level refusals such as 429). */
export function errorResponse(id: JsonRpcId, code: number, message: string, data?: unknown): string {
  const error: Record<string, unknown> = { code, message };
  if (data !== undefined) error.data = data;
  try {
    return JSON.stringify({ jsonrpc: '2.0', error, id }, jsonReplacer);
  } catch {
    return JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id });
  }
}

function isValidId(v: unknown): v is JsonRpcId {
  return v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

/** One element of the body: a response string, or undefined for a notification. */
async function handleOne(
  req: unknown,
  registry: MethodRegistry,
  ctx: RpcContext,
  logger: Logger | undefined,
  onCall: OnCall | undefined,
): Promise<string | undefined> {
  if (typeof req !== 'object' || req === null || Array.isArray(req)) {
    return errorResponse(null, RPC.INVALID_REQUEST, 'invalid request: not an object');
  }
  const r = req as Record<string, unknown>;
  const hasId = Object.hasOwn(r, 'id');
  const idOk = hasId && isValidId(r.id);
  const replyId: JsonRpcId = idOk ? (r.id as JsonRpcId) : null;
  if (r.jsonrpc !== '2.0') {
    return errorResponse(replyId, RPC.INVALID_REQUEST, 'invalid request: jsonrpc must be "2.0"');
  }
  if (typeof r.method !== 'string') {
    return errorResponse(replyId, RPC.INVALID_REQUEST, 'invalid request: method must be a string');
  }
  if (hasId && !idOk) {
    return errorResponse(null, RPC.INVALID_REQUEST, 'invalid request: id must be a string, a number or null');
  }
  const params = r.params;
  if (params !== undefined && (typeof params !== 'object' || params === null)) {
    return errorResponse(
      replyId,
      RPC.INVALID_REQUEST,
      'invalid request: params must be an array or an object',
    );
  }
  const notification = !hasId;
  const reply = (s: string) => (notification ? undefined : s);

  const def = registry.get(r.method);
  if (def === undefined) {
    onCall?.('(unknown)', String(RPC.METHOD_NOT_FOUND));
    return reply(errorResponse(replyId, RPC.METHOD_NOT_FOUND, `method not found: ${r.method.slice(0, 64)}`));
  }
  try {
    const args = validateParams(def, params);
    const result = await def.run(args, ctx);
    const text = notification
      ? undefined
      : JSON.stringify({ jsonrpc: '2.0', result: result ?? null, id: replyId }, jsonReplacer);
    onCall?.(def.name, 'ok');
    return text;
  } catch (err) {
    onCall?.(def.name, String(err instanceof RpcError ? err.rpcCode : RPC.INTERNAL));
    if (err instanceof RpcError) return reply(errorResponse(replyId, err.rpcCode, err.message, err.data));
    logger?.error({ err, method: def.name, user: ctx.user, ip: ctx.ip }, 'rpc method failed');
    return reply(errorResponse(replyId, RPC.INTERNAL, 'internal error'));
  }
}

/**
 * Answers one HTTP body. Returns the response body, or undefined when there is nothing to answer
 * (only notifications).
 */
export async function handleJsonRpc(
  body: string,
  registry: MethodRegistry,
  ctx: RpcContext,
  opts: JsonRpcOptions = {},
): Promise<string | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return errorResponse(null, RPC.PARSE, 'parse error');
  }
  if (!Array.isArray(parsed)) return handleOne(parsed, registry, ctx, opts.logger, opts.onCall);
  if (parsed.length === 0) return errorResponse(null, RPC.INVALID_REQUEST, 'invalid request: empty batch');
  const maxBatch = opts.maxBatch ?? 1000;
  if (parsed.length > maxBatch) {
    return errorResponse(null, RPC.INVALID_REQUEST, `invalid request: batch of more than ${maxBatch}`);
  }
  // One after the other: a batch cannot start a thousand heavy calls at once.
  const out: string[] = [];
  for (const req of parsed) {
    const s = await handleOne(req, registry, ctx, opts.logger, opts.onCall);
    if (s !== undefined) out.push(s);
  }
  return out.length === 0 ? undefined : `[${out.join(',')}]`;
}
