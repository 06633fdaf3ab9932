/**
 * The encrypted wallet file: versioned JSON, the secrets sealed with AES-256-GCM under a key
 * stretched from the passphrase by scrypt (node:crypto's native implementation).
 *
 *   {
 *     "format": "cairn-wallet", "version": 1, "network": "local",
 *     "kdf": { "name": "scrypt", "n": 131072, "r": 8, "p": 1, "salt": "<32 bytes hex>" },
 *     "cipher": { "name": "aes-256-gcm", "iv": "<12 bytes hex>", "tag": "<16 bytes hex>" },
 *     "ciphertext": "<base64 of the secrets' JSON>"
 *   }
 *
 * The header (format, version, network, kdf) is GCM additional data, so altering it fails the
 * tag check like a wrong passphrase does. Safety rules:
 * - a file that cannot be read (truncated, garbage, unknown version) is reported naming the file
 *   and is never written over: `create` refuses an existing path, `save` refuses unless the bytes
 *   on disk are exactly the ones it decrypted;
 * - every write is atomic (temp file in the same directory, fsync, rename, fsync of the
 *   directory), mode 0600; the previous version is kept as `<file>.bak`.
 */
import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { WalletError } from '../errors.ts';

export const WALLET_FORMAT = 'cairn-wallet';
export const WALLET_VERSION = 1;
/** scrypt cost: N = 2^17, r = 8, p = 1 (128 MiB, ≈ 0.34 s on these 2-core machines). */
export const DEFAULT_SCRYPT = Object.freeze({ n: 2 ** 17, r: 8, p: 1 });
/**
 * TEST ONLY: a lower scrypt N for newly written wallets (integration tests spawn the CLI many
 * times). Never set it for a real wallet: a low N makes the passphrase cheap to guess.
 */
export const TEST_SCRYPT_ENV = 'CAIRN_WALLET_TEST_SCRYPT_N';
/** Larger files are not wallets: refuse before parsing. */
const MAX_FILE_BYTES = 1 << 20;

export interface WalletSecrets {
  /** BIP39 mnemonic (English). */
  readonly mnemonic: string;
  /** BIP39's optional extra passphrase ("25th word"); empty when none. */
  readonly bip39Passphrase: string;
  /** Seconds since the epoch. */
  readonly createdAt: number;
  /** Next unused index on the receive (0) and change (1) chains, as far as this wallet knows. */
  readonly next: { readonly receive: number; readonly change: number };
  /**
   * Transactions this wallet sent that were not confirmed when it last looked, with the outputs
   * they spend ("txid:vout"), so the next transaction does not pick the same coins.
   */
  readonly pending?: readonly PendingTx[];
}

export interface PendingTx {
  readonly txid: string;
  readonly spends: readonly string[];
}

/** Most pending transactions remembered (the oldest are forgotten first). */
export const MAX_PENDING = 1000;

interface KdfParams {
  readonly name: 'scrypt';
  readonly n: number;
  readonly r: number;
  readonly p: number;
  readonly salt: string;
}

/** A wallet read (or created) with its passphrase: what `save` needs to write it again. */
export interface OpenedWallet {
  readonly path: string;
  readonly network: string;
  readonly secrets: WalletSecrets;
  readonly kdf: KdfParams;
  /** The derived AES key (kept in memory while the command runs, so saves need no new scrypt). */
  readonly key: Buffer;
  /** The exact bytes this wallet was read from or last written as. */
  readonly bytes: Buffer;
}

function damaged(path: string, detail: string): WalletError {
  return new WalletError(
    'wallet-damaged',
    `wallet file ${path} is damaged or not a Cairn wallet (${detail}); it was left untouched`,
    path,
  );
}

function deriveKey(passphrase: string, kdf: KdfParams): Buffer {
  return scryptSync(Buffer.from(passphrase.normalize('NFKC'), 'utf8'), Buffer.from(kdf.salt, 'hex'), 32, {
    N: kdf.n,
    r: kdf.r,
    p: kdf.p,
    maxmem: 128 * kdf.n * kdf.r * 2 + (1 << 20),
  });
}

function headerOf(network: string, kdf: KdfParams): Buffer {
  return Buffer.from(
    JSON.stringify({ format: WALLET_FORMAT, version: WALLET_VERSION, network, kdf }),
    'utf8',
  );
}

function seal(network: string, kdf: KdfParams, key: Buffer, secrets: WalletSecrets): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(headerOf(network, kdf));
  const ct = Buffer.concat([c.update(JSON.stringify(secrets), 'utf8'), c.final()]);
  const file = {
    format: WALLET_FORMAT,
    version: WALLET_VERSION,
    network,
    kdf,
    cipher: { name: 'aes-256-gcm', iv: iv.toString('hex'), tag: c.getAuthTag().toString('hex') },
    ciphertext: ct.toString('base64'),
  };
  return Buffer.from(`${JSON.stringify(file, null, 2)}\n`, 'utf8');
}

const HEX = (len: number) => new RegExp(`^[0-9a-f]{${len * 2}}$`);

/** Parses and bounds-checks the outer JSON; throws `wallet-damaged` naming the field. */
function parseFile(
  path: string,
  bytes: Buffer,
): { network: string; kdf: KdfParams; iv: Buffer; tag: Buffer; ct: Buffer } {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    throw damaged(path, `not JSON: ${(e as Error).message}`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw damaged(path, 'not a JSON object');
  if (j.format !== WALLET_FORMAT) throw damaged(path, `format is not '${WALLET_FORMAT}'`);
  if (j.version !== WALLET_VERSION)
    throw damaged(path, `version ${String(j.version)} is not ${WALLET_VERSION} (a newer cairn wrote it?)`);
  if (typeof j.network !== 'string' || !/^[a-z]{1,16}$/.test(j.network)) throw damaged(path, 'bad network');
  const k = j.kdf as Record<string, unknown> | undefined;
  if (typeof k !== 'object' || k === null || k.name !== 'scrypt') throw damaged(path, 'kdf is not scrypt');
  const { n, r, p, salt } = k;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 2 ** 10 || n > 2 ** 22 || (n & (n - 1)) !== 0)
    throw damaged(path, 'kdf.n is not a power of two between 2^10 and 2^22');
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1 || r > 32)
    throw damaged(path, 'kdf.r out of range');
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 16)
    throw damaged(path, 'kdf.p out of range');
  if (typeof salt !== 'string' || !HEX(32).test(salt)) throw damaged(path, 'kdf.salt is not 32 bytes of hex');
  const c = j.cipher as Record<string, unknown> | undefined;
  if (typeof c !== 'object' || c === null || c.name !== 'aes-256-gcm')
    throw damaged(path, 'cipher is not aes-256-gcm');
  if (typeof c.iv !== 'string' || !HEX(12).test(c.iv))
    throw damaged(path, 'cipher.iv is not 12 bytes of hex');
  if (typeof c.tag !== 'string' || !HEX(16).test(c.tag))
    throw damaged(path, 'cipher.tag is not 16 bytes of hex');
  if (typeof j.ciphertext !== 'string' || !/^[A-Za-z0-9+/]+=*$/.test(j.ciphertext))
    throw damaged(path, 'ciphertext is not base64');
  return {
    network: j.network,
    kdf: { name: 'scrypt', n, r, p, salt },
    iv: Buffer.from(c.iv, 'hex'),
    tag: Buffer.from(c.tag, 'hex'),
    ct: Buffer.from(j.ciphertext, 'base64'),
  };
}

function parseSecrets(path: string, text: string): WalletSecrets {
  let s: Record<string, unknown>;
  try {
    s = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw damaged(path, 'decrypted contents are not JSON');
  }
  const next = s.next as Record<string, unknown> | undefined;
  const idx = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 31;
  if (
    typeof s.mnemonic !== 'string' ||
    typeof s.bip39Passphrase !== 'string' ||
    typeof s.createdAt !== 'number' ||
    typeof next !== 'object' ||
    next === null ||
    !idx(next.receive) ||
    !idx(next.change)
  )
    throw damaged(path, 'decrypted contents lack mnemonic, bip39Passphrase, createdAt or next');
  const pending = s.pending ?? [];
  const outpoint = (o: unknown) => typeof o === 'string' && /^[0-9a-f]{64}:\d{1,10}$/.test(o);
  if (
    !Array.isArray(pending) ||
    pending.length > MAX_PENDING ||
    !pending.every(
      (p: { txid?: unknown; spends?: unknown }) =>
        typeof p === 'object' &&
        p !== null &&
        typeof p.txid === 'string' &&
        /^[0-9a-f]{64}$/.test(p.txid) &&
        Array.isArray(p.spends) &&
        p.spends.length <= 10_000 &&
        p.spends.every(outpoint),
    )
  )
    throw damaged(path, 'decrypted contents have a malformed pending list');
  return {
    mnemonic: s.mnemonic,
    bip39Passphrase: s.bip39Passphrase,
    createdAt: s.createdAt,
    next: { receive: next.receive as number, change: next.change as number },
    ...(pending.length === 0 ? {} : { pending: pending as PendingTx[] }),
  };
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* some file systems refuse fsync on a directory: the rename is still atomic */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes `bytes` to a new temp file next to `path` (0600, fsynced) and returns its name. */
function writeTemp(path: string, bytes: Buffer): string {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/** Replaces `path` with `bytes` atomically. */
function replaceAtomically(path: string, bytes: Buffer): void {
  const tmp = writeTemp(path, bytes);
  try {
    renameSync(tmp, path);
  } catch (e) {
    unlinkSync(tmp);
    throw e;
  }
  fsyncDir(dirname(path));
}

function readBytes(path: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new WalletError(
        'wallet-missing',
        `no wallet file at ${path} (create one with 'cairn wallet create')`,
        path,
      );
    throw new WalletError('wallet-damaged', `cannot read wallet file ${path}: ${(e as Error).message}`, path);
  }
  if (bytes.length > MAX_FILE_BYTES) throw damaged(path, `${bytes.length} bytes is too large for a wallet`);
  return bytes;
}

export interface CreateOptions {
  /** scrypt N for this file (a power of two); default 2^17, or the test-only env variable. */
  readonly scryptN?: number;
}

function scryptN(opts: CreateOptions): number {
  if (opts.scryptN !== undefined) return opts.scryptN;
  const env = process.env[TEST_SCRYPT_ENV];
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 2 ** 10 || n > 2 ** 22 || (n & (n - 1)) !== 0)
      throw new WalletError('wallet-damaged', `${TEST_SCRYPT_ENV}=${env}: not a power of two in 2^10..2^22`);
    return n;
  }
  return DEFAULT_SCRYPT.n;
}

/** Writes a new wallet file; refuses (wallet-exists) if anything is at `path` already. */
export function createWalletFile(
  path: string,
  network: string,
  secrets: WalletSecrets,
  passphrase: string,
  opts: CreateOptions = {},
): OpenedWallet {
  if (existsSync(path))
    throw new WalletError('wallet-exists', `${path} already exists: refusing to overwrite a wallet`, path);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const kdf: KdfParams = {
    name: 'scrypt',
    n: scryptN(opts),
    r: DEFAULT_SCRYPT.r,
    p: DEFAULT_SCRYPT.p,
    salt: randomBytes(32).toString('hex'),
  };
  const key = deriveKey(passphrase, kdf);
  const bytes = seal(network, kdf, key, secrets);
  const tmp = writeTemp(path, bytes);
  try {
    linkSync(tmp, path); // fails with EEXIST if a file appeared meanwhile: never overwrites
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new WalletError('wallet-exists', `${path} already exists: refusing to overwrite a wallet`, path);
    throw e;
  } finally {
    unlinkSync(tmp);
  }
  fsyncDir(dirname(path));
  return { path, network, secrets, kdf, key, bytes };
}

/** Reads and decrypts a wallet file. Wrong passphrase → wallet-wrong-passphrase; else wallet-damaged. */
export function openWalletFile(path: string, passphrase: string): OpenedWallet {
  const bytes = readBytes(path);
  const f = parseFile(path, bytes);
  const key = deriveKey(passphrase, f.kdf);
  let text: string;
  try {
    const d = createDecipheriv('aes-256-gcm', key, f.iv);
    d.setAAD(headerOf(f.network, f.kdf));
    d.setAuthTag(f.tag);
    text = Buffer.concat([d.update(f.ct), d.final()]).toString('utf8');
  } catch {
    throw new WalletError(
      'wallet-wrong-passphrase',
      `wrong passphrase for wallet ${path} (or its contents were altered)`,
      path,
    );
  }
  return { path, network: f.network, secrets: parseSecrets(path, text), kdf: f.kdf, key, bytes };
}

/**
 * Writes new secrets for an opened wallet. Refuses (wallet-changed) when the file on disk is not
 * byte for byte what was opened: another process wrote it, or it was damaged meanwhile. The
 * previous version is kept as `<path>.bak`.
 */
export function saveWalletFile(w: OpenedWallet, secrets: WalletSecrets): OpenedWallet {
  let current: Buffer;
  try {
    current = readBytes(w.path);
  } catch (e) {
    throw new WalletError(
      'wallet-changed',
      `wallet file ${w.path} can no longer be read (${(e as Error).message}): not saving over it`,
      w.path,
    );
  }
  if (!current.equals(w.bytes))
    throw new WalletError(
      'wallet-changed',
      `wallet file ${w.path} changed on disk since it was opened: not saving over it (run the command again)`,
      w.path,
    );
  replaceAtomically(`${w.path}.bak`, current);
  const bytes = seal(w.network, w.kdf, w.key, secrets);
  replaceAtomically(w.path, bytes);
  return { ...w, secrets, bytes };
}
