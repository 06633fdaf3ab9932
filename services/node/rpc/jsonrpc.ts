/**
 * JSON-RPC in Bitcoin Core's two dialects (Core ≥ 28, src/httprpc.cpp): each request object is
 * answered in the dialect it asks for.
 *
 * JSON-RPC 2.0 (https://www.jsonrpc.org/specification), strictly, for a request object with
 * `"jsonrpc": "2.0"`:
 * - `method` a string, optional `params` (array or object), an `id` that is a string, a number or
 *   null; else -32600 (with its id when that is valid, else null). Other members are ignored;
 * - a notification (no `id` member) is run but gets no response; a body of only notifications
 *   gets no body (the server answers HTTP 204);
 * - every answer, errors included, is HTTP 200; a reply has `jsonrpc`, then `result` or `error`.
 *
 * The legacy 1.0 dialect, for every other request object (`"jsonrpc": "1.0"`, or no `jsonrpc`
 * member: what bitcoin-cli < 28, python-bitcoinrpc and Core's curl examples send):
 * - the reply has no `jsonrpc` member but both `result` and `error` (the other one null), and the
 *   request's `id` whatever JSON value it is (no `id` member → none in the reply either);
 * - there are no notifications: a request without an id is answered too;
 * - a single request's error comes with an HTTP error status, as Core sends it: 400 for -32600,
 *   404 for -32601 (method not found), 500 for every other code.
 * - `jsonrpc` of any other value: -32600 "JSON-RPC version not supported" (or "jsonrpc field must
 *   be a string"), answered in 1.0 (HTTP 400) as Core does.
 * A body that is not JSON (-32700), or is JSON but neither an object nor an array (-32700
 * "Top-level object parse error"), is answered in 1.0 with HTTP 500, as Core does.
 *
 * Batches (a JSON array): each element is answered in its own dialect, in order, and the batch is
 * always HTTP 200 (Core: "batches never throw HTTP errors"); 2.0 notifications are left out, and a
 * batch of only those gets 204. An element that is not an object gets a 1.0 -32600 (Core's answer
 * when it comes first). An empty batch, or one over `maxBatch`, is one 2.0 -32600 error (HTTP 200;
 * Core answers an empty batch with 204).
 *
 * Both dialects: unknown method → -32601; RpcError from a method → its code, message and data; any
 * other error → -32603 "internal error" (logged here, with stack; the client gets no detail).
 * Results are serialised with `jsonReplacer`: bigint → decimal string; an `undefined` result → null.
 */
import type { Logger } from '../../../shared/log.ts';
import { type MethodRegistry, RPC, type RpcContext, RpcError, validateParams } from './method.ts';

export type JsonRpcId = string | number | null;

/** `2.0`: strict JSON-RPC 2.0; `1.0`: Bitcoin Core's legacy envelope. */
export type Dialect = '1.0' | '2.0';

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

/** What the HTTP server sends: its status and body (undefined: nothing, HTTP 204). */
export interface JsonRpcAnswer {
  status: number;
  body: string | undefined;
}

/** Raw bytes would serialise as `{"0":..}`: methods must render them (hex, display order) themselves. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString(10);
  if (value instanceof Uint8Array) {
    throw new TypeError('an RPC result holds raw bytes (Uint8Array); render them as hex');
  }
  return value;
}

/** The id member of a reply: absent (1.0 request without one) or any JSON value. */
type ReplyId = { id: unknown } | undefined;

function envelope(dialect: Dialect, result: unknown, error: unknown, id: ReplyId): Record<string, unknown> {
  const o: Record<string, unknown> =
    dialect === '2.0'
      ? error === null
        ? { jsonrpc: '2.0', result }
        : { jsonrpc: '2.0', error }
      : { result, error };
  if (id !== undefined) o.id = id.id;
  return o;
}

function errorReply(dialect: Dialect, id: ReplyId, code: number, message: string, data?: unknown): string {
  const error: Record<string, unknown> = { code, message };
  if (data !== undefined) error.data = data;
  try {
    return JSON.stringify(envelope(dialect, null, error, id), jsonReplacer);
  } catch {
    return JSON.stringify(envelope(dialect, null, { code, message }, id));
  }
}

/**
 * A success reply. A scalar result (sendrawtransaction's txid, getblockcount's height) needs no
 * replacer, which JSON.stringify would call for every member of the envelope.
 */
function replyText(dialect: Dialect, result: unknown, id: ReplyId): string {
  const scalar =
    result === null ||
    typeof result === 'string' ||
    typeof result === 'number' ||
    typeof result === 'boolean';
  return scalar
    ? JSON.stringify(envelope(dialect, result, null, id))
    : JSON.stringify(envelope(dialect, result, null, id), jsonReplacer);
}

/** A 2.0 error response as a string (also used by the server for HTTP-level refusals such as 429). */
export function errorResponse(id: JsonRpcId, code: number, message: string, data?: unknown): string {
  return errorReply('2.0', { id }, code, message, data);
}

/** Core's HTTP status of a 1.0 single request's error (httprpc.cpp JSONErrorReply). */
export function legacyErrorStatus(code: number): number {
  if (code === RPC.INVALID_REQUEST) return 400;
  if (code === RPC.METHOD_NOT_FOUND) return 404;
  return 500;
}

function isValidId(v: unknown): v is JsonRpcId {
  return v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

/** The dialect a request object asks for, and the refusal when its `jsonrpc` member is bad. */
export function dialectOf(r: Record<string, unknown>): { dialect: Dialect; bad?: string } {
  const v = r.jsonrpc;
  if (v === undefined || v === null || v === '1.0') return { dialect: '1.0' };
  if (v === '2.0') return { dialect: '2.0' };
  if (typeof v !== 'string')
    return { dialect: '1.0', bad: 'invalid request: jsonrpc field must be a string' };
  return { dialect: '1.0', bad: 'invalid request: JSON-RPC version not supported' };
}

/** One answered element: its text (undefined for a 2.0 notification), dialect and error code. */
interface One {
  text: string | undefined;
  dialect: Dialect;
  /** The JSON-RPC error code, when the answer is an error. */
  code?: number;
}

async function handleOne(
  req: unknown,
  registry: MethodRegistry,
  ctx: RpcContext,
  logger: Logger | undefined,
  onCall: OnCall | undefined,
): Promise<One> {
  if (typeof req !== 'object' || req === null || Array.isArray(req)) {
    const code = RPC.INVALID_REQUEST;
    return {
      text: errorReply('1.0', { id: null }, code, 'invalid request: not an object'),
      dialect: '1.0',
      code,
    };
  }
  const r = req as Record<string, unknown>;
  const { dialect, bad } = dialectOf(r);
  const v2 = dialect === '2.0';
  const hasId = Object.hasOwn(r, 'id');
  // 2.0: only a string, a number or null is an id; 1.0 (as Core): any JSON value is echoed
  const idOk = hasId && (!v2 || isValidId(r.id));
  const replyId: ReplyId = idOk ? { id: r.id } : v2 || hasId ? { id: null } : undefined;
  const fail = (id: ReplyId, code: number, message: string, data?: unknown): One => ({
    text: errorReply(dialect, id, code, message, data),
    dialect,
    code,
  });
  if (bad !== undefined) return fail(replyId, RPC.INVALID_REQUEST, bad);
  if (typeof r.method !== 'string') {
    return fail(replyId, RPC.INVALID_REQUEST, 'invalid request: method must be a string');
  }
  if (hasId && !idOk) {
    return fail({ id: null }, RPC.INVALID_REQUEST, 'invalid request: id must be a string, a number or null');
  }
  const params = r.params;
  // Core treats `"params": null` as no params in 1.0; 2.0 wants an array or an object when present
  const noParams = params === undefined || (!v2 && params === null);
  if (!noParams && (typeof params !== 'object' || params === null)) {
    return fail(replyId, RPC.INVALID_REQUEST, 'invalid request: params must be an array or an object');
  }
  const notification = v2 && !hasId;
  const reply = (o: One): One => (notification ? { ...o, text: undefined } : o);

  const def = registry.get(r.method);
  if (def === undefined) {
    onCall?.('(unknown)', String(RPC.METHOD_NOT_FOUND));
    return reply(fail(replyId, RPC.METHOD_NOT_FOUND, `method not found: ${r.method.slice(0, 64)}`));
  }
  try {
    const args = validateParams(def, noParams ? undefined : params);
    const result = await def.run(args, ctx);
    const text = notification ? undefined : replyText(dialect, result ?? null, replyId);
    onCall?.(def.name, 'ok');
    return { text, dialect };
  } catch (err) {
    onCall?.(def.name, String(err instanceof RpcError ? err.rpcCode : RPC.INTERNAL));
    if (err instanceof RpcError) return reply(fail(replyId, err.rpcCode, err.message, err.data));
    logger?.error({ err, method: def.name, user: ctx.user, ip: ctx.ip }, 'rpc method failed');
    return reply(fail(replyId, RPC.INTERNAL, 'internal error'));
  }
}

/**
 * Answers one HTTP body: the HTTP status and the response body (undefined when there is nothing
 * to answer: only 2.0 notifications).
 */
export async function answerJsonRpc(
  body: string,
  registry: MethodRegistry,
  ctx: RpcContext,
  opts: JsonRpcOptions = {},
): Promise<JsonRpcAnswer> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { status: 500, body: errorReply('1.0', { id: null }, RPC.PARSE, 'parse error') };
  }
  if (!Array.isArray(parsed)) {
    if (typeof parsed !== 'object' || parsed === null) {
      return {
        status: 500,
        body: errorReply('1.0', { id: null }, RPC.PARSE, 'top-level object parse error'),
      };
    }
    const one = await handleOne(parsed, registry, ctx, opts.logger, opts.onCall);
    if (one.text === undefined) return { status: 204, body: undefined };
    const status = one.dialect === '1.0' && one.code !== undefined ? legacyErrorStatus(one.code) : 200;
    return { status, body: one.text };
  }
  if (parsed.length === 0) {
    return { status: 200, body: errorResponse(null, RPC.INVALID_REQUEST, 'invalid request: empty batch') };
  }
  const maxBatch = opts.maxBatch ?? 1000;
  if (parsed.length > maxBatch) {
    return {
      status: 200,
      body: errorResponse(null, RPC.INVALID_REQUEST, `invalid request: batch of more than ${maxBatch}`),
    };
  }
  // One after the other: a batch cannot start a thousand heavy calls at once.
  const out: string[] = [];
  for (const req of parsed) {
    const one = await handleOne(req, registry, ctx, opts.logger, opts.onCall);
    if (one.text !== undefined) out.push(one.text);
  }
  return out.length === 0 ? { status: 204, body: undefined } : { status: 200, body: `[${out.join(',')}]` };
}

/** `answerJsonRpc` without the HTTP status: the response body, or undefined. */
export async function handleJsonRpc(
  body: string,
  registry: MethodRegistry,
  ctx: RpcContext,
  opts: JsonRpcOptions = {},
): Promise<string | undefined> {
  return (await answerJsonRpc(body, registry, ctx, opts)).body;
}
