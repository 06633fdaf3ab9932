import { CairnError } from '../../../shared/core/errors.ts';

export type StorageErrorCode =
  | 'storage-schema-newer'
  | 'storage-schema-unknown'
  | 'storage-wrong-network'
  | 'storage-map-full'
  | 'storage-corrupt'
  | 'storage-io';

/** The database cannot be used as asked; the message says what to do about it. */
export class StorageError extends CairnError {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Turns what lmdb throws into a StorageError an operator can act on. */
export function storageErrorFrom(err: unknown, path: string): StorageError {
  if (err instanceof StorageError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  if (/MDB_MAP_FULL|map.?full/i.test(msg)) {
    return new StorageError(
      'storage-map-full',
      `database ${path} is full (MDB_MAP_FULL): raise storage.map_size_gb in the config`,
    );
  }
  if (/ENOSPC|No space left|Input\/output error|\bEIO\b/i.test(msg)) {
    return new StorageError(
      'storage-io',
      `writing to ${path} failed (${msg}): the disk may be full or failing; free space or fix the disk, then restart (the database keeps its last committed block)`,
    );
  }
  if (/MDB_CORRUPTED|MDB_PAGE_NOTFOUND|MDB_INVALID/i.test(msg)) {
    return new StorageError(
      'storage-corrupt',
      `database ${path} is damaged (${msg}): restore a backup or resync`,
    );
  }
  return new StorageError('storage-io', `database ${path}: ${msg}`);
}
