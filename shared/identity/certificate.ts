/**
 * CURVE identities on disk, in the ZeroMQ certificate format that CZMQ's `zcert_save` and pyzmq's
 * `zmq.auth.create_certificates` write (ZPL, ZeroMQ RFC 4), so either can read our files and we
 * read theirs:
 *
 *   DIR/NAME.key          public certificate: header comments, `metadata`, `curve` / `public-key`
 *   DIR/NAME.key_secret   the same plus `secret-key`; mode 0600
 *
 * ```
 * #   ****  Generated on 2025-01-02 03:04:05 UTC by Cairn  ****
 * #   ZeroMQ CURVE **Secret** Certificate
 * #   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.
 *
 * metadata
 *     role = "peer"
 * curve
 *     public-key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
 *     secret-key = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
 * ```
 *
 * Values are always quoted: Z85 keys may contain `#` (a ZPL comment outside quotes) and `=`.
 * The secret file is created with mode 0600 from the first byte (temp file + rename), and a secret
 * file that grants any group/other permission is refused when loaded, as ssh refuses such keys.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CairnError } from '../core/errors.ts';
import { x25519PublicKey, x25519SecretKey } from './x25519.ts';
import { isZ85Key, z85Decode, z85Encode } from './z85.ts';

export type IdentityErrorCode =
  /** `generateIdentity` would overwrite an existing `.key` or `.key_secret` (pass force). */
  | 'identity-exists'
  /** A secret file readable or writable by group/other. */
  | 'identity-permissions'
  /** Not a certificate we can read: bad syntax, missing or invalid key; names file and line. */
  | 'identity-malformed'
  /** The secret key in the file does not belong to its public key. */
  | 'identity-mismatch'
  /** `loadIdentity` was given a public certificate (no `secret-key`). */
  | 'identity-no-secret'
  /** The file or directory does not exist. */
  | 'identity-not-found'
  /** A bad name or metadata passed to `generateIdentity`. */
  | 'identity-invalid-argument'
  /** Any other I/O failure (disk full, permission denied by the OS, ...). */
  | 'identity-io';

export class IdentityError extends CairnError {
  constructor(
    readonly code: IdentityErrorCode,
    message: string,
    /** The file concerned, when there is one. */
    readonly path?: string,
    /** 1-based line of a malformed file, when the problem is on one line. */
    readonly line?: number,
  ) {
    super(message);
  }
}

export interface GenerateOptions {
  /** Replace an existing identity of that name. Default false: refuse. */
  force?: boolean;
  /** Written to the `metadata` section of both files (CZMQ style). Names: ZPL name characters. */
  metadata?: Record<string, string>;
  /** Time written in the header comment (default: now). */
  now?: Date;
}

export interface GeneratedIdentity {
  publicKey: string;
  publicPath: string;
  secretPath: string;
}

export interface Identity {
  publicKey: string;
  secretKey: string;
}

/** A parsed certificate file. `secretKey` is undefined in a public certificate. */
export interface Certificate {
  publicKey: string;
  secretKey: string | undefined;
  metadata: Record<string, string>;
}

export const PUBLIC_SUFFIX = '.key';
export const SECRET_SUFFIX = '.key_secret';

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
/** ZPL name characters (CZMQ `s_is_namechar`): alphanumerics and `$-_@.&+/`, no `/` at either end. */
const ZPL_NAME_RE = /^[A-Za-z0-9$\-_@.&+]([A-Za-z0-9$\-_@.&+/]*[A-Za-z0-9$\-_@.&+])?$/;

/** Paths of the two files of identity `name` in `dir`. */
export function identityPaths(dir: string, name: string): { publicPath: string; secretPath: string } {
  return { publicPath: join(dir, name + PUBLIC_SUFFIX), secretPath: join(dir, name + SECRET_SUFFIX) };
}

/** The public key (Z85) of a CURVE secret key (Z85): X25519 base-point multiplication, as libzmq does. */
export function derivePublicKey(secretKey: string): string {
  return z85Encode(x25519PublicKey(z85Decode(secretKey)));
}

/** The text of a certificate file; with `secretKey` it is the secret certificate. */
export function formatCertificate(
  keys: { publicKey: string; secretKey?: string },
  metadata: Record<string, string> = {},
  now: Date = new Date(),
): string {
  if (!isZ85Key(keys.publicKey)) throw new IdentityError('identity-invalid-argument', 'not a Z85 public key');
  if (keys.secretKey !== undefined && !isZ85Key(keys.secretKey))
    throw new IdentityError('identity-invalid-argument', 'not a Z85 secret key');
  checkMetadata(metadata);
  const stamp = now.toISOString().slice(0, 19).replace('T', ' ');
  const lines = [`#   ****  Generated on ${stamp} UTC by Cairn  ****`];
  if (keys.secretKey === undefined) {
    lines.push(
      '#   ZeroMQ CURVE Public Certificate',
      '#   Exchange securely, or use a secure mechanism to verify the contents',
      '#   of this file after exchange. Store public certificates in your home',
      '#   directory, in the .curve subdirectory.',
    );
  } else {
    lines.push(
      '#   ZeroMQ CURVE **Secret** Certificate',
      '#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.',
    );
  }
  lines.push('', 'metadata');
  for (const [k, v] of Object.entries(metadata)) lines.push(`    ${k} = "${v}"`);
  lines.push('curve', `    public-key = "${keys.publicKey}"`);
  if (keys.secretKey !== undefined) lines.push(`    secret-key = "${keys.secretKey}"`);
  return `${lines.join('\n')}\n`;
}

function checkMetadata(metadata: Record<string, string>): void {
  for (const [k, v] of Object.entries(metadata)) {
    // pyzmq's loader takes any line starting with public-key/secret-key as a key, wherever it is
    if (!ZPL_NAME_RE.test(k) || /^(public|secret)-key/.test(k))
      throw new IdentityError(
        'identity-invalid-argument',
        `metadata name ${JSON.stringify(k)} is not allowed: use letters, digits and $-_@.&+/ and not public-key/secret-key`,
      );
    // ZPL quoted values end at the next quote and have no escapes
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    if (typeof v !== 'string' || /["\u0000-\u001f\u007f]/.test(v))
      throw new IdentityError(
        'identity-invalid-argument',
        `metadata ${k}: value must be a single line without double quotes`,
      );
  }
}

/**
 * Creates a new CURVE key pair as `DIR/NAME.key` and `DIR/NAME.key_secret`. Creates `dir` (mode
 * 0700) when missing. Refuses to replace an existing identity unless `force`.
 */
export function generateIdentity(dir: string, name: string, opts: GenerateOptions = {}): GeneratedIdentity {
  if (!NAME_RE.test(name))
    throw new IdentityError(
      'identity-invalid-argument',
      `identity name ${JSON.stringify(name)} is not allowed: use letters, digits, '.', '_' and '-' (not starting with '.' or '-')`,
    );
  const metadata = opts.metadata ?? {};
  checkMetadata(metadata);
  const { publicPath, secretPath } = identityPaths(dir, name);

  ensureDir(dir);
  if (!opts.force) {
    for (const p of [publicPath, secretPath]) if (exists(p)) throw existsError(p);
  }

  const secret = x25519SecretKey();
  const secretKey = z85Encode(secret);
  const publicKey = z85Encode(x25519PublicKey(secret));
  const now = opts.now ?? new Date();

  const force = opts.force === true;
  writeAtomic(secretPath, formatCertificate({ publicKey, secretKey }, metadata, now), 'secret', force);
  try {
    writeAtomic(publicPath, formatCertificate({ publicKey }, metadata, now), 'public', force);
  } catch (err) {
    // do not leave half an identity behind (the secret file is ours: we just created it)
    try {
      unlinkSync(secretPath);
    } catch {}
    throw err;
  }
  syncDir(dir);
  return { publicKey, publicPath, secretPath };
}

/** The public key (Z85) of a `.key` or `.key_secret` file. */
export function loadPublicKey(path: string): string {
  const cert = parseCertificate(readText(path).text, path);
  if (cert.secretKey !== undefined) checkPair(cert, path);
  return cert.publicKey;
}

/**
 * Loads the key pair of a `.key_secret` file. Refuses a file whose mode grants group or other any
 * permission, a public certificate, and a file whose keys do not form a pair.
 */
export function loadIdentity(secretPath: string): Identity {
  const { text, mode } = readText(secretPath);
  const cert = parseCertificate(text, secretPath);
  if (cert.secretKey === undefined) {
    const hint = secretPath.endsWith(PUBLIC_SUFFIX) ? `; the secret file is ${secretPath}_secret` : '';
    throw new IdentityError(
      'identity-no-secret',
      `${secretPath} is a public certificate (no secret-key): give the .key_secret file${hint}`,
      secretPath,
    );
  }
  if ((mode & 0o077) !== 0)
    throw new IdentityError(
      'identity-permissions',
      `${secretPath} is accessible by other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): a CURVE secret key must be private to its owner. Fix: chmod 600 ${secretPath}`,
      secretPath,
    );
  checkPair(cert, secretPath);
  return { publicKey: cert.publicKey, secretKey: cert.secretKey };
}

/** The public keys of every `*.key` file in `dir` (sorted by file name, duplicates once): allow-lists. */
export function loadPublicKeysFromDir(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw ioError(err, dir, 'read directory');
  }
  const keys = new Set<string>();
  for (const n of names.sort()) {
    if (!n.endsWith(PUBLIC_SUFFIX) || n.startsWith('.')) continue;
    const p = join(dir, n);
    let isFile: boolean;
    try {
      isFile = statSync(p).isFile();
    } catch (err) {
      throw ioError(err, p, 'read');
    }
    if (isFile) keys.add(loadPublicKey(p));
  }
  return [...keys];
}

/**
 * Parses certificate text by the ZPL rules CZMQ's `zconfig` applies: `#` comment lines, indentation
 * in steps of 4 spaces, `name = "value"` (or 'value', or unquoted up to a `#`). Keys are read from
 * the `curve` section, the metadata from `metadata`. Errors name `file` and the line.
 */
export function parseCertificate(text: string, file: string): Certificate {
  const malformed = (line: number, what: string) =>
    new IdentityError('identity-malformed', `${file}:${line}: ${what}`, file, line);
  const lines = text.split('\n');
  const path: string[] = []; // names of the open sections, by depth
  const metadata: Record<string, string> = {};
  let publicKey: string | undefined;
  let secretKey: string | undefined;
  let publicLine = 0;
  let secretLine = 0;

  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const line = lines[i]!.replace(/\s+$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const indent = line.length - line.trimStart().length;
    if (line.slice(0, indent).includes('\t')) throw malformed(n, 'indent with spaces, not tabs');
    if (indent % 4 !== 0) throw malformed(n, `indent in steps of 4 spaces (found ${indent})`);
    const level = indent / 4;
    const rest = line.slice(indent);
    if (rest.startsWith('#')) continue;
    if (level > path.length) throw malformed(n, 'indented deeper than its section');
    const m = /^([A-Za-z0-9$\-_@.&+/]+)\s*(.*)$/.exec(rest);
    if (m === null || m[1]!.startsWith('/') || m[1]!.endsWith('/'))
      throw malformed(n, `expected a name, found ${JSON.stringify(rest.slice(0, 40))}`);
    const name = m[1]!;
    const after = m[2]!;
    let value: string | undefined;
    if (after.startsWith('=')) {
      value = parseValue(after.slice(1).trimStart(), (what) => malformed(n, what));
    } else if (after !== '' && !after.startsWith('#')) {
      throw malformed(n, `unexpected ${JSON.stringify(after.slice(0, 40))} after ${name}`);
    }
    path.length = level;
    const section = path.join('/');
    path.push(name);

    if (section === 'curve' && (name === 'public-key' || name === 'secret-key')) {
      const isPublic = name === 'public-key';
      if ((isPublic ? publicLine : secretLine) !== 0)
        throw malformed(n, `second ${name} (first on line ${isPublic ? publicLine : secretLine})`);
      if (value === undefined || !isZ85Key(value))
        throw malformed(n, `${name} must be a quoted 40-character Z85 key`);
      if (isPublic) {
        publicKey = value;
        publicLine = n;
      } else {
        secretKey = value;
        secretLine = n;
      }
    } else if (name === 'public-key' || name === 'secret-key') {
      throw malformed(n, `${name} outside the curve section`);
    } else if (section === 'metadata' && value !== undefined) {
      metadata[name] = value;
    }
  }
  if (publicKey === undefined) {
    const where = secretLine !== 0 ? ` (secret-key on line ${secretLine})` : '';
    throw new IdentityError(
      'identity-malformed',
      `${file}: no curve/public-key found${where}; is this a ZeroMQ certificate?`,
      file,
    );
  }
  return { publicKey, secretKey, metadata };
}

function parseValue(s: string, malformed: (what: string) => IdentityError): string {
  const q = s[0];
  if (q === '"' || q === "'") {
    const end = s.indexOf(q, 1);
    if (end < 0) throw malformed(`missing closing ${q}`);
    const tail = s.slice(end + 1).trim();
    if (tail !== '' && !tail.startsWith('#'))
      throw malformed(`unexpected ${JSON.stringify(tail.slice(0, 40))} after the value`);
    return s.slice(1, end);
  }
  const hash = s.indexOf('#');
  return (hash < 0 ? s : s.slice(0, hash)).trimEnd();
}

function checkPair(cert: Certificate, file: string): void {
  if (derivePublicKey(cert.secretKey!) !== cert.publicKey)
    throw new IdentityError(
      'identity-mismatch',
      `${file}: the secret-key does not belong to the public-key (derived ${derivePublicKey(cert.secretKey!)}, file says ${cert.publicKey}); the file is damaged or was edited by hand`,
      file,
    );
}

/** Reads a file and its mode through one descriptor (no race between the check and the read). */
function readText(path: string): { text: string; mode: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw ioError(err, path, 'open');
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new IdentityError('identity-malformed', `${path} is not a regular file`, path);
    if (st.size > 64 * 1024)
      throw new IdentityError('identity-malformed', `${path} is too large to be a certificate`, path);
    return { text: readFileSync(fd, 'utf8'), mode: st.mode };
  } catch (err) {
    if (err instanceof IdentityError) throw err;
    throw ioError(err, path, 'read');
  } finally {
    closeSync(fd);
  }
}

function ensureDir(dir: string): void {
  try {
    const first = mkdirSync(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is filtered by the umask; make the directory we created exactly 0700
    if (first !== undefined) {
      const fd = openSync(dir, 'r');
      try {
        fchmodSync(fd, 0o700);
      } finally {
        closeSync(fd);
      }
    }
  } catch (err) {
    throw ioError(err, dir, 'create directory');
  }
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {}
  if (!isDir) throw new IdentityError('identity-io', `${dir} is not a directory`, dir);
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw ioError(err, p, 'stat');
  }
}

function existsError(p: string): IdentityError {
  return new IdentityError(
    'identity-exists',
    `${p} already exists: refusing to overwrite an identity (peers may know its key). Pass --force to replace it, or choose another directory`,
    p,
  );
}

/**
 * Writes `text` to `path` atomically: a temp file in the same directory, fsynced, then linked (no
 * overwrite) or renamed (overwrite) into place. A secret file is created with mode 0600 from its
 * first byte and set to exactly 0600 whatever the umask; a public one is 0644 less the umask.
 */
function writeAtomic(path: string, text: string, kind: 'secret' | 'public', overwrite: boolean): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number;
  try {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
    fd = openSync(tmp, flags, kind === 'secret' ? 0o600 : 0o644);
  } catch (err) {
    throw ioError(err, tmp, 'create');
  }
  try {
    try {
      if (kind === 'secret') fchmodSync(fd, 0o600);
      const buf = Buffer.from(text, 'utf8');
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (overwrite) {
      renameSync(tmp, path);
    } else {
      try {
        linkSync(tmp, path); // fails with EEXIST if the name appeared meanwhile: never clobbers
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw existsError(path);
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
        // file systems without hard links: check then rename
        if (exists(path)) throw existsError(path);
        renameSync(tmp, path);
        return;
      }
      unlinkSync(tmp);
    }
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {}
    if (err instanceof IdentityError) throw err;
    throw ioError(err, path, 'write');
  }
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some platforms cannot fsync a directory; the files themselves were synced
  }
}

function ioError(err: unknown, path: string, what: string): IdentityError {
  if (err instanceof IdentityError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT')
    return new IdentityError('identity-not-found', `${path}: no such file or directory`, path);
  return new IdentityError('identity-io', `cannot ${what} ${path}: ${e.message}`, path);
}

/**
 * An optional allow-list setting and its `_dir`: null (anyone) when neither is set, else the
 * listed keys plus those of the directory.
 */
export function optionalKeysWithDir(listed: readonly string[] | null, dir: string | null): string[] | null {
  return listed === null && dir === null ? null : keysWithDir(listed ?? [], dir);
}

/** Keys listed inline plus the keys of a directory's `*.key` files (an allow-list setting and its `_dir`). */
export function keysWithDir(listed: readonly string[], dir: string | null): string[] {
  const keys = new Set(listed);
  if (dir !== null) for (const k of loadPublicKeysFromDir(dir)) keys.add(k);
  return [...keys];
}
