/**
 * RPC authentication, as Bitcoin Core does it:
 *
 * - a cookie file `<data_dir>/.cookie` holding `__cookie__:<64 hex random>`, written at start
 *   (created with mode 0600 under a temporary name, then renamed into place, so nobody ever sees
 *   a partial or world-readable file) and removed at stop; local clients read it for the password;
 * - optional `rpcauth` entries `user:salt$hmac`, where hmac = HMAC-SHA256(key = salt as text,
 *   message = password) in hex (share/rpcauth/rpcauth.py); checked in constant time;
 * - HTTP Basic credentials (`Authorization: Basic base64(user:password)`).
 *
 * Failed attempts are counted per IP; the server waits `failDelayMs` before answering 401.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { CairnError } from '../../../shared/core/errors.ts';

export const COOKIE_USER = '__cookie__';
export const COOKIE_FILE = '.cookie';

export class RpcAuthError extends CairnError {
  readonly code = 'rpc-auth-config';
}

export interface RpcAuthEntry {
  readonly user: string;
  readonly salt: string;
  /** 32 bytes. */
  readonly hmac: Buffer;
}

/** Parses `user:salt$hmac` (hmac = 64 hex digits). Throws RpcAuthError naming the problem. */
export function parseRpcAuth(entry: string): RpcAuthEntry {
  const m = /^([^:]+):([^$:]+)\$([0-9a-fA-F]{64})$/.exec(entry);
  if (m === null)
    throw new RpcAuthError(
      `rpcauth entry must be user:salt$hmac (64 hex digits), got "${entry.split('$')[0]}$..."`,
    );
  return { user: m[1]!, salt: m[2]!, hmac: Buffer.from(m[3]!, 'hex') };
}

export function rpcAuthHmac(salt: string, password: string): Buffer {
  return createHmac('sha256', salt).update(password, 'utf8').digest();
}

/** A new entry the way rpcauth.py makes one: 16-byte hex salt, 32-byte base64url password. */
export function generateRpcAuth(user: string, password?: string): { entry: string; password: string } {
  const pw = password ?? randomBytes(32).toString('base64url');
  const salt = randomBytes(16).toString('hex');
  return { entry: `${user}:${salt}$${rpcAuthHmac(salt, pw).toString('hex')}`, password: pw };
}

/** Parses an `Authorization` header value; undefined when it is not well-formed Basic credentials. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | undefined {
  if (header === undefined) return undefined;
  const m = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (m === null) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** `<dir>/.cookie`, created 0600 atomically; `remove()` deletes it if it is still ours. */
export class CookieFile {
  private constructor(
    readonly path: string,
    readonly password: string,
  ) {}

  static write(dataDir: string): CookieFile {
    const password = randomBytes(32).toString('hex');
    const path = join(dataDir, COOKIE_FILE);
    writeAtomic(path, `${COOKIE_USER}:${password}`, 0o600);
    return new CookieFile(path, password);
  }

  remove(): void {
    try {
      if (readFileSync(this.path, 'utf8') === `${COOKIE_USER}:${this.password}`) rmSync(this.path);
    } catch {
      // already gone
    }
  }
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Checks credentials against the cookie and the rpcauth entries; counts failures per IP. */
export class Authenticator {
  readonly #cookie: Buffer | undefined;
  readonly #entries: readonly RpcAuthEntry[];
  readonly #failures = new Map<string, number>();
  static readonly MAX_TRACKED_IPS = 10_000;

  constructor(opts: { cookiePassword?: string; rpcauth?: readonly string[] }) {
    this.#cookie = opts.cookiePassword === undefined ? undefined : Buffer.from(opts.cookiePassword, 'utf8');
    this.#entries = (opts.rpcauth ?? []).map(parseRpcAuth);
  }

  /** The user name when the `Authorization` header is valid, else undefined (and a failure counted). */
  check(header: string | undefined, ip: string): string | undefined {
    const user = this.#verify(parseBasicAuth(header));
    if (user === undefined) {
      const n = (this.#failures.get(ip) ?? 0) + 1;
      this.#failures.delete(ip); // re-insert: the map stays in least-recently-failed order
      this.#failures.set(ip, n);
      if (this.#failures.size > Authenticator.MAX_TRACKED_IPS) {
        const oldest = this.#failures.keys().next().value;
        if (oldest !== undefined) this.#failures.delete(oldest);
      }
    }
    return user;
  }

  /** Failed attempts from `ip` since start. */
  failures(ip: string): number {
    return this.#failures.get(ip) ?? 0;
  }

  #verify(cred: { user: string; password: string } | undefined): string | undefined {
    if (cred === undefined) return undefined;
    const pw = Buffer.from(cred.password, 'utf8');
    if (cred.user === COOKIE_USER) {
      return this.#cookie !== undefined && safeEqual(pw, this.#cookie) ? COOKIE_USER : undefined;
    }
    let ok = false;
    for (const e of this.#entries) {
      // every entry of the user is checked, so timing does not tell which one matched
      if (e.user === cred.user && safeEqual(rpcAuthHmac(e.salt, cred.password), e.hmac)) ok = true;
    }
    return ok ? cred.user : undefined;
  }
}

/** Writes `text` to `path` atomically (temporary file, fsync, rename) with `mode`. */
export function writeAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', mode);
  try {
    fchmodSync(fd, mode); // whatever the umask
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
