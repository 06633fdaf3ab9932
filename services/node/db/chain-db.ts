/**
 * The node's one LMDB environment and its named databases (docs/architecture.md §Storage). Only
 * cairnd opens it. Opening checks the schema version and the network, and refuses a database it
 * does not understand with a message saying what to do.
 */
import { Buffer } from 'node:buffer';
import { mkdirSync } from 'node:fs';
import { open, type RootDatabase, type RootDatabaseOptionsWithPath } from 'lmdb';
import { equalBytes, hashToHex } from '../../../shared/core/bytes.ts';
import { CairnError } from '../../../shared/core/errors.ts';
import type { NetworkParams } from '../../../shared/core/params/types.ts';
import { DiskSpaceGuard } from './disk-space.ts';
import { StorageError, storageErrorFrom } from './errors.ts';
import { u32be } from './keys.ts';
import { Table } from './table.ts';

/**
 * Bump when an encoding or a database changes meaning; older code refuses newer databases.
 * 2: coins may hold shares (flag 4), and the share databases exist.
 */
export const SCHEMA_VERSION = 2;
/**
 * Older schemas this code opens as they are, restamping them: a schema 1 database cannot hold a
 * share (blocks with one were invalid then), so it is a valid schema 2 database with empty share
 * indexes. Schema 1 code then refuses it, as it must once shares may be stored.
 */
const UPGRADABLE_SCHEMAS: readonly number[] = [1];

export const DB_NAMES = [
  'meta',
  'blocks',
  'headers',
  'chain',
  'utxo',
  'undo',
  'txindex',
  'addrtx',
  'assets',
  'bitmarks',
  'provenance',
  'sharekinds',
  'sharebal',
  'shareholders',
  'shareprov',
] as const;
export type DbName = (typeof DB_NAMES)[number];

/** The databases derived from blocks, rebuilt by reindex (all but meta, blocks and headers). */
export const INDEX_DBS: readonly DbName[] = DB_NAMES.filter(
  (n) => n !== 'meta' && n !== 'blocks' && n !== 'headers',
);

export type BinaryDb = Table;

export interface ChainDbOptions {
  readonly path: string;
  readonly params: NetworkParams;
  /** Address space reserved for the map; the file grows as needed up to it. Default 64 GiB. */
  readonly mapSize?: number;
  /**
   * fsync each commit before it returns (default true). false keeps atomicity and consistency
   * after a crash of the process, not after a crash of the machine (the last commits may be lost).
   */
  readonly durable?: boolean;
  /**
   * Refuse to open, and stop writing, while less than this many bytes are free under `path`
   * (default 0: no check; cairnd passes storage.min_free_mb). 'auto': 50 MB, or 5% of a smaller
   * file system.
   */
  readonly minFreeBytes?: number | 'auto';
}

function openTable(env: RootDatabase, name: DbName) {
  return env.openDB<Buffer, Buffer>({ name, encoding: 'binary', keyEncoding: 'binary' });
}

const META_SCHEMA = Buffer.from('schema');
const META_NETWORK = Buffer.from('network');
export const META_TIP = Buffer.from('tip');

export class ChainDb {
  readonly path: string;
  #env: RootDatabase;
  readonly #envOptions: RootDatabaseOptionsWithPath;
  readonly #dbs: Record<DbName, Table>;
  #reopens = 0;
  #closed = false;
  #failed: StorageError | undefined;
  /** lmdb itself failed a write (not the space guard): its native side is not to be trusted. */
  #lmdbFailed = false;
  /** Write calls open: the outer one is the LMDB transaction, nested ones run inside it. */
  #depth = 0;
  /** What a nested write threw: its writes are half done, so the outer transaction must not commit. */
  #nestedFailure: { error: unknown } | undefined;
  readonly #space: DiskSpaceGuard;

  private constructor(
    path: string,
    env: RootDatabase,
    envOptions: RootDatabaseOptionsWithPath,
    space: DiskSpaceGuard,
  ) {
    this.path = path;
    this.#env = env;
    this.#envOptions = envOptions;
    this.#dbs = {} as Record<DbName, Table>;
    for (const name of DB_NAMES) this.#dbs[name] = new Table(name, openTable(env, name));
    this.#space = space;
  }

  static open(opts: ChainDbOptions): ChainDb {
    let env: RootDatabase;
    let space: DiskSpaceGuard;
    const envOptions: RootDatabaseOptionsWithPath = {
      path: opts.path,
      maxDbs: DB_NAMES.length + 2,
      mapSize: opts.mapSize ?? 64 * 1024 ** 3,
      overlappingSync: false,
      noSync: opts.durable === false,
      compression: false,
      encoding: 'binary',
      keyEncoding: 'binary',
    };
    try {
      mkdirSync(opts.path, { recursive: true });
      space = new DiskSpaceGuard(opts.path, opts.minFreeBytes ?? 0);
      space.check();
      env = open(envOptions);
    } catch (e) {
      throw storageErrorFrom(e, opts.path);
    }
    const db = new ChainDb(opts.path, env, envOptions, space);
    try {
      db.#checkIdentity(opts.params);
    } catch (e) {
      db.close();
      throw e;
    }
    return db;
  }

  /** A new database is stamped with our schema and network; an existing one must match both. */
  #checkIdentity(params: NetworkParams): void {
    const meta = this.#dbs.meta;
    const schema = meta.get(META_SCHEMA);
    const network = meta.get(META_NETWORK);
    if (schema === undefined && network === undefined) {
      this.write(() => {
        meta.putSync(META_SCHEMA, u32be(SCHEMA_VERSION));
        meta.putSync(META_NETWORK, Buffer.from(params.genesisHash));
      });
      return;
    }
    if (schema === undefined || schema.length !== 4) {
      throw new StorageError(
        'storage-schema-unknown',
        `database ${this.path} has no readable schema version: it is not a Cairn chain database`,
      );
    }
    const version = schema.readUInt32BE(0);
    if (version > SCHEMA_VERSION) {
      throw new StorageError(
        'storage-schema-newer',
        `database ${this.path} has schema version ${version}, this cairnd understands up to ${SCHEMA_VERSION}: run a newer cairnd, or move the directory away to resync`,
      );
    }
    if (version < SCHEMA_VERSION && !UPGRADABLE_SCHEMAS.includes(version)) {
      throw new StorageError(
        'storage-schema-unknown',
        `database ${this.path} has old schema version ${version}: no upgrade path exists; move it away and resync`,
      );
    }
    if (network === undefined || !equalBytes(network, params.genesisHash)) {
      throw new StorageError(
        'storage-wrong-network',
        `database ${this.path} belongs to the network with genesis ${network ? hashToHex(network) : '?'}, not '${params.name}': use another data directory`,
      );
    }
    if (version < SCHEMA_VERSION) this.write(() => meta.putSync(META_SCHEMA, u32be(SCHEMA_VERSION)));
  }

  db(name: DbName): BinaryDb {
    return this.#dbs[name];
  }

  /**
   * Closes the environment and opens it again, between transactions. LMDB keeps every page a write
   * transaction made dirty on a free list for reuse until the environment closes (mdb.c's
   * me_dpages), so the largest transaction so far stays allocated: after a sync's group commits
   * that is most of the index databases, 50 MB at 4× the bench chain, growing with the chain
   * (issue 12). The node calls this when the chain has stood still after moving far. Synchronous:
   * nothing else runs between the close and the open. False when it cannot run now (inside a
   * write, closed, or after a failed write).
   */
  releaseWriteMemory(): boolean {
    if (this.#closed || this.#failed !== undefined || this.#depth > 0) return false;
    void this.#env.close();
    let env: RootDatabase;
    try {
      env = open(this.#envOptions);
    } catch (e) {
      // the old environment is closed: nothing can be read or written, so stop as a failed write does
      this.#closed = true;
      this.#fail(storageErrorFrom(e, this.path));
    }
    this.#env = env;
    for (const name of DB_NAMES) this.#dbs[name].rebind(openTable(env, name));
    this.#reopens++;
    return true;
  }

  /** Times releaseWriteMemory reopened the environment. */
  get reopens(): number {
    return this.#reopens;
  }

  /**
   * Runs `fn` as ONE write transaction: all of it is committed, or (on any throw) none of it.
   * `writing`: the bytes the commit is expected to write, kept free on top of the reserve.
   *
   * Called inside another write, `fn` runs in the outer transaction, made durable by its commit.
   * A nested write that throws aborts the whole outer transaction, whatever its caller does with
   * the error: its own writes may be half done. Nested writes are not LMDB child transactions:
   * a child copies every page it touches, even one already dirty in its parent, which cost a
   * syncing node (a commit of up to 64 blocks, two writes per block) about a sixth of its main
   * thread (issue 12); and nothing recovers from a failed nested write but the node's stopping.
   */
  write<T>(fn: () => T, writing = 0): T {
    // after a failed write (disk full, I/O error) lmdb is not touched again: its native side may
    // not survive more writes (lmdb-js has crashed after ENOSPC), and the node is stopping anyway
    if (this.#failed !== undefined) throw this.#failed;
    if (this.#depth > 0) return this.#nested(fn);
    // free space is checked once per outer transaction, for all it will write (`writing`, an
    // estimate): LMDB writes the pages at the outer commit, so a check per nested one saw the
    // same free space each time and not what the batch was about to need
    try {
      this.#space.check(writing);
    } catch (e) {
      this.#fail(e as StorageError);
    }
    this.#depth++;
    try {
      return this.#env.transactionSync(() => {
        const result = fn();
        // a nested write failed and its caller went on: throwing here aborts the transaction
        if (this.#nestedFailure !== undefined) throw this.#nestedFailure.error;
        return result;
      });
    } catch (e) {
      // Our typed errors and programming errors pass through; what lmdb or the OS threw (map full,
      // disk full, I/O error) becomes a StorageError that tells the operator what to do.
      if (
        e instanceof CairnError ||
        e instanceof TypeError ||
        e instanceof RangeError ||
        e instanceof ReferenceError
      )
        throw e;
      this.#lmdbFailed = true;
      this.#fail(storageErrorFrom(e, this.path));
    } finally {
      this.#depth--;
      this.#nestedFailure = undefined;
    }
  }

  #nested<T>(fn: () => T): T {
    this.#depth++;
    try {
      return fn();
    } catch (e) {
      this.#nestedFailure ??= { error: e };
      throw e;
    } finally {
      this.#depth--;
    }
  }

  #fail(err: StorageError): never {
    this.#failed = err;
    this.onFailure(err);
    throw err;
  }

  /** Free bytes under the data directory. */
  freeBytes(): number {
    return this.#space.freeBytes();
  }

  /** The write failure that stopped this database, if any (every later write throws it again). */
  get failed(): StorageError | undefined {
    return this.#failed;
  }

  /** Told once, at the first failed write (the node stops on it). */
  onFailure: (e: StorageError) => void = () => undefined;

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // after a failed write the environment is left to the process exit: lmdb-js has aborted in
    // native code when closed after ENOSPC, and every commit before the failure is already durable
    if (this.#lmdbFailed) return;
    this.#env.close();
  }
}
