import { CairnError } from '../../../shared/core/errors.ts';

export type StorageErrorCode =
  | 'storage-schema-newer'
  | 'storage-schema-unknown'
  | 'storage-wrong-network'
  | 'storage-map-full'
  | 'storage-corrupt'
  | 'storage-read-only'
  | 'storage-disk-full'
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

/**
 * What the file system said about the data directory (read-only, not ours, full), as the
 * operator error it is: a StorageError (exit 3) that says how to fix it, not a stack trace.
 */
export function dataDirError(err: unknown, dir: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EROFS')
    return new StorageError(
      'storage-read-only',
      `data directory ${dir} is on a read-only file system: remount it read-write, or set data_dir to a writable directory`,
    );
  if (code === 'EACCES' || code === 'EPERM')
    return new StorageError(
      'storage-read-only',
      `data directory ${dir} is not writable by this user (${code}): fix its owner or mode, or set data_dir to a writable directory`,
    );
  if (code === 'ENOSPC' || code === 'EIO' || code === 'EDQUOT') return storageErrorFrom(err, dir);
  return err instanceof Error ? err : new Error(String(err));
}

/** Turns what lmdb throws into a StorageError an operator can act on. */
export function storageErrorFrom(err: unknown, path: string): StorageError {
  if (err instanceof StorageError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  if (/EROFS|read-only file system/i.test(msg))
    return new StorageError(
      'storage-read-only',
      `database ${path} is on a read-only file system: remount it read-write, or set data_dir to a writable directory`,
    );
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
