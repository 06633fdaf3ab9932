/**
 * Loads a configuration for a schema from a TOML file, environment variables and flags, in that
 * order of precedence (a flag beats an environment variable beats the file beats the default).
 * Every value is checked against its type; every error is a ConfigError that names the key, where
 * the value came from, what was expected and what was received.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import {
  ConfigError,
  type ConfigOf,
  describeOrigin,
  describeReceived,
  type FlatField,
  flattenSchema,
  isField,
  Mismatch,
  type Origin,
  type ParseContext,
  type Schema,
} from './schema.ts';

export interface LoadOptions {
  /** TOML file to read; it must exist when given. */
  file?: string;
  /** Environment (default: process.env). Only the variables the schema names are read. */
  env?: Record<string, string | undefined>;
  /**
   * Flag values keyed by dotted key (`'peering.max_inbound': 5`) or nested (`{ peering: { max_inbound: 5 } }`,
   * as yargs' dot-notation gives), `-` and `_` alike. Undefined values are ignored; unknown keys are errors
   * (use `flagsFromArgv` to pick the config keys out of a full yargs argv).
   */
  flags?: Record<string, unknown>;
  /** Relative paths from environment and flags resolve against this (default: process.cwd()). */
  cwd?: string;
  /** Home directory for `~` (default: os.homedir()). */
  home?: string;
}

export interface Loaded<S extends Schema> {
  /** The typed configuration, deeply frozen. */
  readonly config: ConfigOf<S>;
  /** Where each dotted key's value came from. */
  readonly origins: Readonly<Record<string, Origin>>;
  /** Things worth logging that are not errors (e.g. CAIRN_* variables that name no setting). */
  readonly warnings: readonly string[];
}

interface Candidate {
  value: unknown;
  origin: Origin;
}

export function loadConfig<S extends Schema>(schema: S, opts: LoadOptions = {}): Loaded<S> {
  const fields = flattenSchema(schema);
  const byKey = new Map(fields.map((f) => [f.key, f]));
  const home = opts.home ?? homedir();
  const cwdCtx: ParseContext = { baseDir: resolve(opts.cwd ?? process.cwd()), home };

  // Parse every source completely first: a bad value is an error even where a higher source overrides it.
  const layers: Map<string, Candidate>[] = [];
  if (opts.file !== undefined)
    layers.push(readFileLayer(schema, byKey, resolve(cwdCtx.baseDir, opts.file), home));
  const env = opts.env ?? process.env;
  layers.push(envLayer(fields, env, cwdCtx));
  if (opts.flags !== undefined) layers.push(flagLayer(schema, byKey, opts.flags, cwdCtx));

  const resolved = new Map<string, unknown>();
  const origins: Record<string, Origin> = {};
  for (const f of fields) {
    let chosen: Candidate | undefined;
    for (const layer of layers) chosen = layer.get(f.key) ?? chosen;
    if (chosen === undefined) {
      const d = f.field.default;
      const value =
        typeof d === 'function'
          ? (d as (ctx: { get(key: string): unknown; home: string }) => unknown)({
              get(key) {
                if (!resolved.has(key))
                  throw new Error(
                    `schema bug: the default of ${f.key} reads ${key}, which is not declared before it`,
                  );
                return resolved.get(key);
              },
              home,
            })
          : d;
      chosen = { value, origin: { source: 'default' } };
    }
    resolved.set(f.key, chosen.value);
    origins[f.key] = chosen.origin;
  }

  const config: Record<string, unknown> = {};
  for (const [key, value] of resolved) setPath(config, key, value);
  return {
    config: deepFreeze(config) as ConfigOf<S>,
    origins: Object.freeze(origins),
    warnings: envWarnings(fields, env),
  };
}

/**
 * The config keys of a yargs argv (dot-notation nested objects, `-`/camelCase spellings), for
 * `loadConfig`'s `flags`. Keys that are not settings (`_`, `$0`, `config`, ...) are left out.
 */
export function flagsFromArgv(schema: Schema, argv: Record<string, unknown>): Record<string, unknown> {
  const keys = new Set(flattenSchema(schema).map((f) => f.key));
  const out: Record<string, unknown> = {};
  const walk = (obj: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(obj)) {
      if (v === undefined) continue;
      const name = k.replace(/-/g, '_').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      const key = prefix + name;
      if (keys.has(key)) out[key] = v;
      else if (isPlainObject(v)) walk(v, `${key}.`);
    }
  };
  walk(argv, '');
  return out;
}

// ---------------------------------------------------------------------------------------------

function readFileLayer(
  schema: Schema,
  byKey: Map<string, FlatField>,
  file: string,
  home: string,
): Map<string, Candidate> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT')
      throw new ConfigError('config-file-missing', `config file ${file} does not exist`);
    throw new ConfigError('config-file-unreadable', `cannot read config file ${file}: ${e.message}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      const what = err.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
      throw new ConfigError(
        'config-syntax',
        `${file}:${err.line}:${err.column}: TOML syntax error: ${what}\n${err.codeblock.trimEnd()}`,
      );
    }
    throw err;
  }
  const origin: Origin = { source: 'file', file };
  const ctx: ParseContext = { baseDir: dirname(file), home };
  const out = new Map<string, Candidate>();
  const allKeys = [...byKey.keys()];
  const walk = (node: Schema, obj: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix + k;
      const child = Object.hasOwn(node, k) ? node[k] : undefined;
      if (child === undefined) {
        // an unknown section is reported by its first key: `[peer] listen` → "peer.listen", closest "peering.listen"
        let bad = key;
        for (let x = v; isPlainObject(x) && Object.keys(x).length > 0; ) {
          const first = Object.keys(x)[0]!;
          bad += `.${first}`;
          x = x[first];
        }
        throw new ConfigError(
          'config-unknown-key',
          `${file}: unknown key "${bad}"${suggestion(bad, allKeys, (s) => `"${s}"`)}`,
          bad,
          origin,
        );
      }
      if (isField(child)) {
        out.set(key, { value: parseWith(key, origin, () => child.type.fromValue(v, ctx)), origin });
      } else if (isPlainObject(v)) {
        walk(child, v, `${key}.`);
      } else {
        throw new ConfigError(
          'config-invalid-value',
          `${key} ${describeOrigin(origin)}: expected a table (a [${key}] section), got ${describeReceived(v, false)}`,
          key,
          origin,
        );
      }
    }
  };
  walk(schema, doc, '');
  return out;
}

function envLayer(
  fields: FlatField[],
  env: Record<string, string | undefined>,
  ctx: ParseContext,
): Map<string, Candidate> {
  const out = new Map<string, Candidate>();
  for (const f of fields) {
    const raw = env[f.env];
    if (raw === undefined) continue;
    if (raw.trim() === '' && f.field.type.emptyText !== 'value') continue; // empty = unset
    const origin: Origin = { source: 'env', name: f.env };
    out.set(f.key, { value: parseWith(f.key, origin, () => f.field.type.fromText(raw, ctx)), origin });
  }
  return out;
}

function flagLayer(
  schema: Schema,
  byKey: Map<string, FlatField>,
  flags: Record<string, unknown>,
  ctx: ParseContext,
): Map<string, Candidate> {
  const out = new Map<string, Candidate>();
  const groups = new Set<string>();
  const collectGroups = (node: Schema, prefix: string) => {
    for (const [k, v] of Object.entries(node))
      if (!isField(v)) {
        groups.add(prefix + k);
        collectGroups(v, `${prefix + k}.`);
      }
  };
  collectGroups(schema, '');
  const allFlags = [...byKey.keys()];
  const walk = (obj: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(obj)) {
      if (v === undefined) continue;
      const key = prefix + k.replace(/-/g, '_');
      const f = byKey.get(key);
      if (f !== undefined) {
        const origin: Origin = { source: 'flag', name: `--${key}` };
        const value = parseWith(key, origin, () =>
          typeof v === 'string' ? f.field.type.fromText(v, ctx) : f.field.type.fromValue(v, ctx),
        );
        out.set(key, { value, origin });
      } else if (groups.has(key) && isPlainObject(v)) {
        walk(v, `${key}.`);
      } else {
        throw new ConfigError(
          'config-unknown-key',
          `unknown flag --${key}${suggestion(key, allFlags, (s) => `--${s}`)}`,
          key,
          { source: 'flag', name: `--${key}` },
        );
      }
    }
  };
  walk(flags, '');
  return out;
}

function parseWith(key: string, origin: Origin, fn: () => unknown): unknown {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof Mismatch)) throw err;
    const k = key + err.sub;
    const where = describeOrigin(origin);
    if (err.problem === 'unknown-key')
      throw new ConfigError(
        'config-unknown-key',
        `${k} ${where}: unknown key; expected ${err.expected}`,
        k,
        origin,
      );
    if (err.problem === 'missing')
      throw new ConfigError(
        'config-invalid-value',
        `${k} ${where}: missing; expected ${err.expected}`,
        k,
        origin,
      );
    throw new ConfigError(
      'config-invalid-value',
      `${k} ${where}: expected ${err.expected}, got ${describeReceived(err.received, err.textual)}`,
      k,
      origin,
    );
  }
}

function envWarnings(fields: FlatField[], env: Record<string, string | undefined>): string[] {
  const names = fields.map((f) => f.env);
  const known = new Set(names);
  const out: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('CAIRN_') || known.has(name)) continue;
    const hint = suggestion(name, names, (s) => s);
    if (hint !== '') out.push(`environment variable ${name} is not a setting of this program${hint}`);
  }
  return out;
}

/** ` (did you mean X?)` for the closest candidate, or '' when none is close. */
export function suggestion(key: string, candidates: readonly string[], show: (s: string) => string): string {
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  const last = key.slice(key.lastIndexOf('.') + 1);
  for (const c of candidates) {
    let score = editDistance(key.toLowerCase(), c.toLowerCase());
    // the right name in the wrong section: `max_inbound` or `[peer] max_inbound` → peering.max_inbound
    if (c.slice(c.lastIndexOf('.') + 1) === last && last.length >= 4) score = Math.min(score, 1);
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  const limit = Math.max(2, Math.floor(key.length / 3));
  return best !== undefined && bestScore <= limit ? ` (did you mean ${show(best)}?)` : '';
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function setPath(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let o = obj;
  for (const p of parts.slice(0, -1)) {
    if (!isPlainObject(o[p])) o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[parts[parts.length - 1]!] = value;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
