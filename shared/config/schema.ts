/**
 * A small declarative config schema for every Cairn program. A schema is a nested object whose
 * leaves are `field(type, default, doc)`; its dotted keys (`peering.max_inbound`) are the TOML keys,
 * and each has an environment variable derived from it (`CAIRN_PEERING_MAX_INBOUND`).
 * `ConfigOf<typeof SCHEMA>` is the typed result that `loadConfig` (load.ts) returns.
 */

import { isIPv4, isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { CairnError } from '../core/errors.ts';
import { isZ85Key } from '../identity/z85.ts';

export type ConfigErrorCode =
  /** The config file named does not exist. */
  | 'config-file-missing'
  /** The config file exists but cannot be read. */
  | 'config-file-unreadable'
  /** The config file is not valid TOML (message has file:line:column). */
  | 'config-syntax'
  /** A key the schema does not know, in the file or among the flags. */
  | 'config-unknown-key'
  /** A value of the wrong type or out of range, from any source. */
  | 'config-invalid-value';

/** Where a value came from. */
export type Origin =
  | { source: 'default' }
  | { source: 'file'; file: string }
  | { source: 'env'; name: string }
  | { source: 'flag'; name: string };

export class ConfigError extends CairnError {
  constructor(
    readonly code: ConfigErrorCode,
    message: string,
    /** Dotted key concerned (with `[i]` for list items), when there is one. */
    readonly key?: string,
    /** The source of the bad value, when there is one. */
    readonly origin?: Origin,
  ) {
    super(message);
  }
}

/** How `origin` reads in a message: "in FILE", "from environment variable X", "from flag --x". */
export function describeOrigin(origin: Origin): string {
  switch (origin.source) {
    case 'default':
      return 'by default';
    case 'file':
      return `in ${origin.file}`;
    case 'env':
      return `from environment variable ${origin.name}`;
    case 'flag':
      return `from flag ${origin.name}`;
  }
}

/** A value did not fit its type. `sub` names the part (`[1].key`) when it is inside a list or table. */
export class Mismatch extends Error {
  constructor(
    readonly expected: string,
    readonly received: unknown,
    readonly sub = '',
    /** The received value was text (environment, string flag): shown without its TOML kind. */
    readonly textual = false,
    /** `unknown-key` / `missing`: a key inside a table is not allowed / is required. */
    readonly problem: 'type' | 'unknown-key' | 'missing' = 'type',
  ) {
    super(`expected ${expected}`);
  }
}

export interface ParseContext {
  /** Relative paths resolve against this (the config file's directory, or the working directory). */
  readonly baseDir: string;
  readonly home: string;
}

/** A value type: parses TOML/flag values and environment text, describes itself for messages and docs. */
export interface ValueType<T> {
  /** For messages: "an integer from 0 to 100". */
  readonly expected: string;
  /** For docs: "integer 0..100". */
  readonly docType: string;
  /** A TOML (or flag) value; throws Mismatch. */
  fromValue(v: unknown, ctx: ParseContext): T;
  /** Text of an environment variable or a string flag; throws Mismatch. */
  fromText(s: string, ctx: ParseContext): T;
  /** How a value is written in TOML (docs, samples). */
  format(v: T): string;
  /** Empty environment text means "unset" unless the type says otherwise (lists: empty list). */
  readonly emptyText?: 'unset' | 'value';
}

export interface DefaultContext {
  /** The resolved value of a key declared earlier in the schema. */
  get(key: string): unknown;
  readonly home: string;
}

export interface Field<T> {
  readonly kind: 'field';
  readonly type: ValueType<T>;
  readonly default: T | ((ctx: DefaultContext) => T);
  /** How the default reads in docs, when it is computed ("~/.cairn/<network>"). */
  readonly defaultDoc: string | undefined;
  readonly doc: string;
  /** Environment variable, when not the derived one. */
  readonly env: string | undefined;
}

export interface Schema {
  readonly [name: string]: Field<unknown> | Schema;
}

/** Deeply read-only: the loaded configuration is frozen. */
export type Frozen<T> = T extends readonly (infer U)[]
  ? readonly Frozen<U>[]
  : T extends object
    ? { readonly [K in keyof T]: Frozen<T[K]> }
    : T;

/** The typed configuration a schema describes. */
export type ConfigOf<S> = {
  readonly [K in keyof S]: S[K] extends Field<infer T>
    ? Frozen<T>
    : S[K] extends Schema
      ? ConfigOf<S[K]>
      : never;
};

export function field<T>(
  type: ValueType<T>,
  def: T | ((ctx: DefaultContext) => T),
  doc: string,
  opts: { env?: string; defaultDoc?: string } = {},
): Field<T> {
  return { kind: 'field', type, default: def, doc, env: opts.env, defaultDoc: opts.defaultDoc };
}

export function isField(x: Field<unknown> | Schema): x is Field<unknown> {
  return (x as Field<unknown>).kind === 'field' && typeof (x as Field<unknown>).type === 'object';
}

/** `peering.max_inbound` → `CAIRN_PEERING_MAX_INBOUND`. */
export function envName(key: string): string {
  return `CAIRN_${key.toUpperCase().replace(/[.-]/g, '_')}`;
}

export interface FlatField {
  readonly key: string;
  readonly env: string;
  readonly field: Field<unknown>;
}

/** Every field of a schema with its dotted key and environment variable, in declaration order. */
export function flattenSchema(schema: Schema, prefix = ''): FlatField[] {
  const out: FlatField[] = [];
  for (const [name, node] of Object.entries(schema)) {
    const key = prefix + name;
    if (isField(node)) out.push({ key, env: node.env ?? envName(key), field: node });
    else out.push(...flattenSchema(node, `${key}.`));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Types

function kindOf(v: unknown): string {
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return 'a boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a float';
  if (typeof v === 'bigint') return 'an integer';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Date) return 'a date';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'a table';
  return typeof v;
}

/** A received value as a message shows it: `"32" (a string)`, `[1, 2] (an array)`. */
export function describeReceived(v: unknown, textual: boolean): string {
  let shown: string;
  try {
    shown = v instanceof Date ? v.toISOString() : (JSON.stringify(v) ?? String(v));
  } catch {
    shown = String(v);
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  return textual ? shown : `${shown} (${kindOf(v)})`;
}

function textType<T>(
  expected: string,
  docType: string,
  parseText: (s: string, ctx: ParseContext) => T | undefined,
  format: (v: T) => string = (v) => JSON.stringify(v),
): ValueType<T> {
  return {
    expected,
    docType,
    fromValue(v, ctx) {
      if (typeof v !== 'string') throw new Mismatch(expected, v);
      const r = parseText(v, ctx);
      if (r === undefined) throw new Mismatch(expected, v);
      return r;
    },
    fromText(s, ctx) {
      const r = parseText(s, ctx);
      if (r === undefined) throw new Mismatch(expected, s, '', true);
      return r;
    },
    format,
  };
}

export function stringType(opts: { pattern?: RegExp; describe?: string } = {}): ValueType<string> {
  const expected = opts.describe ?? 'a string';
  return textType(expected, 'string', (s) =>
    opts.pattern === undefined || opts.pattern.test(s) ? s : undefined,
  );
}

export function integerType(opts: { min?: number; max?: number } = {}): ValueType<number> {
  const { min, max } = opts;
  const expected =
    min !== undefined && max !== undefined
      ? `an integer from ${min} to ${max}`
      : min !== undefined
        ? `an integer >= ${min}`
        : max !== undefined
          ? `an integer <= ${max}`
          : 'an integer';
  const docType = `integer${min !== undefined || max !== undefined ? ` ${min ?? ''}..${max ?? ''}` : ''}`;
  const check = (n: number, raw: unknown, textual: boolean): number => {
    if (!Number.isSafeInteger(n) || (min !== undefined && n < min) || (max !== undefined && n > max))
      throw new Mismatch(expected, raw, '', textual);
    return n;
  };
  return {
    expected,
    docType,
    fromValue(v) {
      if (typeof v === 'bigint') return check(Number(v), v, false);
      if (typeof v !== 'number') throw new Mismatch(expected, v);
      return check(v, v, false);
    },
    fromText(s) {
      const t = s.trim().replace(/_/g, '');
      if (!/^[+-]?\d+$/.test(t)) throw new Mismatch(expected, s, '', true);
      return check(Number(t), s, true);
    },
    format: (v) => String(v).replace(/\B(?=(\d{3})+(?!\d))/g, '_'),
  };
}

const TRUE_TEXT = new Set(['true', '1', 'yes', 'on']);
const FALSE_TEXT = new Set(['false', '0', 'no', 'off']);

export function booleanType(): ValueType<boolean> {
  const expected = 'a boolean (true or false)';
  return {
    expected,
    docType: 'boolean',
    fromValue(v) {
      if (typeof v !== 'boolean') throw new Mismatch(expected, v);
      return v;
    },
    fromText(s) {
      const t = s.trim().toLowerCase();
      if (TRUE_TEXT.has(t)) return true;
      if (FALSE_TEXT.has(t)) return false;
      throw new Mismatch('true/false (or 1/0, yes/no, on/off)', s, '', true);
    },
    format: (v) => String(v),
  };
}

export function enumType<const V extends readonly string[]>(values: V): ValueType<V[number]> {
  const list = values.map((v) => JSON.stringify(v)).join(', ');
  return textType<V[number]>(`one of ${list}`, values.join(' | '), (s) =>
    values.includes(s) ? (s as V[number]) : undefined,
  );
}

/** A CURVE public key in Z85 (40 characters). */
export function keyType(): ValueType<string> {
  return textType('a CURVE key in Z85 (40 characters)', 'Z85 key', (s) => (isZ85Key(s) ? s : undefined));
}

/** `~` and `~/...` → the home directory. */
export function expandHome(p: string, home: string = homedir()): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return join(home, p.slice(2));
  return p;
}

/** A file system path: `~` expanded, made absolute against the file's directory (or the working directory). */
export function pathType(): ValueType<string> {
  return textType(
    'a path',
    'path',
    (s, ctx) => {
      if (s === '' || s.includes('\0') || /^~[^/]/.test(s)) return undefined;
      const p = expandHome(s, ctx.home);
      return isAbsolute(p) ? resolve(p) : resolve(ctx.baseDir, p);
    },
    (v) => JSON.stringify(v),
  );
}

export interface ParsedAddress {
  /** Without brackets. */
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6 | 'name';
}

const HOSTNAME_RE =
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Parses `host:port`: IPv4 (`127.0.0.1:2136`), bracketed IPv6 (`[::1]:2136`) and, when `hostnames`,
 * a DNS name (`node1:2136`). Port 1..65535. Returns undefined when it is not one.
 */
export function parseAddress(text: string, opts: { hostnames?: boolean } = {}): ParsedAddress | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535 || (m[3]!.length > 1 && m[3]!.startsWith('0'))) return undefined;
  if (m[1] !== undefined) {
    if (!isIPv6(m[1])) return undefined;
    const zone = m[1].indexOf('%'); // keep an interface name's case
    const host = zone < 0 ? m[1].toLowerCase() : m[1].slice(0, zone).toLowerCase() + m[1].slice(zone);
    return { host, port, family: 6 };
  }
  const host = m[2]!;
  if (isIPv4(host)) return { host, port, family: 4 };
  if (/^[\d.]+$/.test(host)) return undefined; // looks numeric but is not a valid IPv4 address
  if (opts.hostnames && HOSTNAME_RE.test(host)) return { host: host.toLowerCase(), port, family: 'name' };
  return undefined;
}

/** An address as text: `1.2.3.4:2136`, `[::1]:2136`, `node1:2136`. */
export function formatAddress(a: ParsedAddress): string {
  return a.family === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** A ZeroMQ TCP endpoint for an address: `tcp://[::1]:2136`. */
export function addressToEndpoint(address: string): string {
  return `tcp://${address}`;
}

/** `host:port`; the value is the normalized text (IPv6 lower-cased, in brackets). */
export function addressType(opts: { hostnames?: boolean } = {}): ValueType<string> {
  const expected = opts.hostnames
    ? 'an address host:port (IPv4, [IPv6] or a host name; port 1-65535)'
    : 'an address ip:port (IPv4 or [IPv6], port 1-65535)';
  return textType(expected, opts.hostnames ? 'address (host:port)' : 'address (ip:port)', (s) => {
    const a = parseAddress(s.trim(), opts);
    return a === undefined ? undefined : formatAddress(a);
  });
}

/** A list; from text: comma-separated, blanks around items ignored, empty text = empty list. */
export function listType<T>(item: ValueType<T>): ValueType<T[]> {
  const expected = `a list, each item ${item.expected}`;
  return {
    expected,
    docType: `list of ${item.docType}`,
    emptyText: 'value',
    fromValue(v, ctx) {
      if (!Array.isArray(v)) throw new Mismatch(expected, v);
      return v.map((x, i) => withSub(`[${i}]`, () => item.fromValue(x, ctx)));
    },
    fromText(s, ctx) {
      return s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '')
        .map((x, i) => withSub(`[${i}]`, () => item.fromText(x, ctx)));
    },
    format: (v) => `[${v.map((x) => item.format(x)).join(', ')}]`,
  };
}

/** Absent by default (`null`); TOML has no null, so a value is either given or not. */
export function nullableType<T>(inner: ValueType<T>): ValueType<T | null> {
  return {
    expected: inner.expected,
    docType: `${inner.docType} (optional)`,
    emptyText: 'unset',
    fromValue: (v, ctx) => inner.fromValue(v, ctx),
    fromText: (s, ctx) => inner.fromText(s, ctx),
    format: (v) => (v === null ? '(unset)' : inner.format(v)),
  };
}

type TableOf<S extends Record<string, ValueType<unknown>>> = {
  [K in keyof S]: S[K] extends ValueType<infer T> ? T : never;
};

/**
 * A list of tables with the given fields, all required (TOML `[[a.b]]`). From text (and as string
 * items of a list): items separated by commas, each split into its fields by `text.split`.
 */
export function tablesType<S extends Record<string, ValueType<unknown>>>(
  shape: S,
  text: { describe: string; split: (item: string) => Record<string, string> | undefined },
): ValueType<TableOf<S>[]> {
  const names = Object.keys(shape);
  const expected = `a list of tables { ${names.join(', ')} }`;
  const one = (obj: Record<string, unknown>, ctx: ParseContext, textual: boolean): TableOf<S> => {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(obj)) {
      if (!Object.hasOwn(shape, k))
        throw new Mismatch(`only the keys ${names.join(', ')}`, k, `.${k}`, textual, 'unknown-key');
    }
    for (const k of names) {
      if (obj[k] === undefined)
        throw new Mismatch(shape[k]!.expected, undefined, `.${k}`, textual, 'missing');
      out[k] = withSub(`.${k}`, () =>
        textual ? shape[k]!.fromText(String(obj[k]), ctx) : shape[k]!.fromValue(obj[k], ctx),
      );
    }
    return out as TableOf<S>;
  };
  return {
    expected,
    docType: `list of tables { ${names.join(', ')} }`,
    emptyText: 'value',
    fromValue(v, ctx) {
      if (!Array.isArray(v)) throw new Mismatch(expected, v);
      return v.map((x, i) =>
        withSub(`[${i}]`, () => {
          if (typeof x === 'string') {
            const parts = text.split(x);
            if (parts === undefined) throw new Mismatch(`a table or ${text.describe}`, x);
            return one(parts, ctx, true);
          }
          if (x === null || typeof x !== 'object' || Array.isArray(x) || x instanceof Date)
            throw new Mismatch(`a table { ${names.join(', ')} }`, x);
          return one(x as Record<string, unknown>, ctx, false);
        }),
      );
    },
    fromText(s, ctx) {
      return s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '')
        .map((x, i) =>
          withSub(`[${i}]`, () => {
            const parts = text.split(x);
            if (parts === undefined) throw new Mismatch(text.describe, x, '', true);
            return one(parts, ctx, true);
          }),
        );
    },
    format: (v) =>
      `[${v.map((t) => `{ ${names.map((k) => `${k} = ${shape[k]!.format(t[k])}`).join(', ')} }`).join(', ')}]`,
  };
}

function withSub<T>(sub: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof Mismatch) {
      throw new Mismatch(err.expected, err.received, sub + err.sub, err.textual, err.problem);
    }
    throw err;
  }
}
