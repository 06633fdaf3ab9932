/**
 * The RPC method registry: what a method module declares (name, help, typed parameters, `run`)
 * and the parameter validation every call goes through before `run` sees its arguments.
 *
 * Parameters may be given positionally (a JSON array, in `params` order) or by name (a JSON
 * object). `run` always receives them by name; an omitted optional parameter is absent from the
 * record (and an optional parameter given as `null` counts as omitted, as in Bitcoin Core).
 * Every validation failure is an `RpcError(-32602)` whose message names the parameter.
 */
import { CairnError, UsageError } from '../../../shared/core/errors.ts';

export type ParamType =
  | 'string'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'hex'
  /** 64 hex digits (a block or transaction hash in display order). */
  | 'hash'
  | 'object'
  | 'array'
  | 'any';

export interface ParamSpec {
  name: string;
  type: ParamType;
  optional?: boolean;
  /** Bounds of an `integer` / `number`. */
  min?: number;
  max?: number;
  /** Longest `string` / `hex` (in characters) or `array` (in items). */
  maxLength?: number;
}

/** Who is calling: the authenticated user name (`__cookie__` for the cookie) and the peer IP. */
export interface RpcContext {
  readonly user: string;
  readonly ip: string;
}

export interface MethodDef {
  name: string;
  help: string;
  params: readonly ParamSpec[];
  run(args: Record<string, unknown>, ctx: RpcContext): unknown | Promise<unknown>;
}

/** JSON-RPC 2.0 standard codes, then Bitcoin Core's application codes where one fits. */
export const RPC = {
  PARSE: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
  /** Server-defined: this server's HTTP 429 answer. */
  RATE_LIMITED: -32000,
  MISC: -1,
  TYPE: -3,
  /** Core's RPC_INVALID_ADDRESS_OR_KEY: also "not found" (block, transaction). */
  INVALID_ADDRESS: -5,
  INVALID_PARAMETER: -8,
  /** Core's RPC_DESERIALIZATION_ERROR: bytes that do not decode. */
  DESERIALIZATION: -22,
  VERIFY: -25,
  VERIFY_REJECTED: -26,
  VERIFY_ALREADY_IN_CHAIN: -27,
  IN_WARMUP: -28,
  CLIENT_NOT_CONNECTED: -9,
  CLIENT_NODE_ALREADY_ADDED: -23,
  CLIENT_NODE_NOT_ADDED: -24,
  CLIENT_NODE_NOT_CONNECTED: -29,
  CLIENT_INVALID_IP_OR_SUBNET: -30,
} as const;

/** An error a method throws on purpose: its code, message and data go to the client as they are. */
export class RpcError extends CairnError {
  readonly code: string;
  constructor(
    readonly rpcCode: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.code = `rpc-${rpcCode}`;
  }
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;
const HASH_RE = /^[0-9a-fA-F]{64}$/;

/** A short JSON rendering of what the client sent, for error messages. */
function shown(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function bounds(what: string, spec: ParamSpec): string {
  const { min, max } = spec;
  if (min !== undefined && max !== undefined) return `${what} between ${min} and ${max}`;
  if (min !== undefined) return `${what} ≥ ${min}`;
  if (max !== undefined) return `${what} ≤ ${max}`;
  return what;
}

function inRange(n: number, spec: ParamSpec): boolean {
  return (spec.min === undefined || n >= spec.min) && (spec.max === undefined || n <= spec.max);
}

function lengthOk(len: number, spec: ParamSpec): boolean {
  return spec.maxLength === undefined || len <= spec.maxLength;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Undefined when `value` fits `spec`, else what was expected (for the message). */
function mismatch(spec: ParamSpec, value: unknown): string | undefined {
  const maxLen = spec.maxLength === undefined ? '' : ` of at most ${spec.maxLength} characters`;
  switch (spec.type) {
    case 'string':
      return typeof value === 'string' && lengthOk(value.length, spec) ? undefined : `a string${maxLen}`;
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value) && inRange(value, spec)
        ? undefined
        : bounds('an integer', spec);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && inRange(value, spec)
        ? undefined
        : bounds('a number', spec);
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'a boolean';
    case 'hex':
      return typeof value === 'string' && HEX_RE.test(value) && lengthOk(value.length, spec)
        ? undefined
        : `a hex string (even length)${maxLen}`;
    case 'hash':
      return typeof value === 'string' && HASH_RE.test(value) ? undefined : 'a hash of 64 hex digits';
    case 'object':
      return isPlainObject(value) ? undefined : 'an object';
    case 'array':
      return Array.isArray(value) && lengthOk(value.length, spec)
        ? undefined
        : spec.maxLength === undefined
          ? 'an array'
          : `an array of at most ${spec.maxLength} items`;
    case 'any':
      return undefined;
  }
}

function invalid(message: string): RpcError {
  return new RpcError(RPC.INVALID_PARAMS, message);
}

/**
 * Checks `params` (the request's `params` member: an array, an object or undefined) against the
 * method's specs and returns the arguments by name. Throws RpcError(-32602) naming the parameter.
 */
export function validateParams(def: MethodDef, params: unknown): Record<string, unknown> {
  const given = new Map<string, unknown>();
  if (params === undefined) {
    // no parameters
  } else if (Array.isArray(params)) {
    if (params.length > def.params.length) {
      throw invalid(
        `too many parameters: ${def.name} takes at most ${def.params.length}, got ${params.length}`,
      );
    }
    params.forEach((v, i) => {
      given.set(def.params[i]!.name, v);
    });
  } else if (isPlainObject(params)) {
    const known = new Set(def.params.map((p) => p.name));
    for (const [k, v] of Object.entries(params)) {
      if (!known.has(k)) throw invalid(`unknown parameter "${k}" for ${def.name}`);
      given.set(k, v);
    }
  } else {
    throw invalid('params must be an array or an object');
  }
  const args: Record<string, unknown> = {};
  for (const spec of def.params) {
    const v = given.get(spec.name);
    if (v === undefined || (v === null && spec.optional)) {
      if (!spec.optional) throw invalid(`${spec.name}: missing required parameter`);
      continue;
    }
    const expected = mismatch(spec, v);
    if (expected !== undefined) throw invalid(`${spec.name}: expected ${expected}, got ${shown(v)}`);
    args[spec.name] = v;
  }
  return args;
}

/** The methods the server answers, by name. */
export class MethodRegistry {
  readonly #methods = new Map<string, MethodDef>();

  /** Registers methods; a duplicate name or a malformed parameter list is a programming error. */
  add(...defs: MethodDef[]): void {
    for (const def of defs) {
      if (this.#methods.has(def.name)) throw new UsageError(`rpc method ${def.name} registered twice`);
      const seen = new Set<string>();
      for (const p of def.params) {
        if (seen.has(p.name)) throw new UsageError(`rpc method ${def.name}: parameter ${p.name} twice`);
        seen.add(p.name);
      }
      this.#methods.set(def.name, def);
    }
  }

  get(name: string): MethodDef | undefined {
    return this.#methods.get(name);
  }

  /** Sorted. */
  names(): string[] {
    return [...this.#methods.keys()].sort();
  }
}
