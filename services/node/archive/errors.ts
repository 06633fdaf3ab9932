/**
 * Errors of block archives (`cairnd export-blocks` / `import-blocks`). Every one names the file
 * and, when the problem is in its bytes, the byte offset where the damaged part starts, so an
 * operator can tell a truncated copy from a flipped byte from a file of another network.
 */
import { CairnError } from '../../../shared/core/errors.ts';

export const ARCHIVE_CODES = {
  'archive-unreadable': 'the file cannot be opened or read',
  'archive-unwritable': 'the output file cannot be created or written',
  'archive-exists': 'the output file exists (use --force to replace it)',
  'archive-bad-range': 'the heights asked for are not in the active chain',
  'archive-bad-magic': 'not a Cairn block archive',
  'archive-bad-version': 'an archive version this cairnd does not read',
  'archive-wrong-network': 'written by a node of another network (another genesis block)',
  'archive-truncated': 'the file ends before its end record',
  'archive-bad-length': 'a block record declares an impossible length',
  'archive-bad-checksum': 'a part of the file does not match its checksum (damaged)',
  'archive-not-continuous': 'a block does not build on the block before it in the file',
  'archive-bad-end': 'the end record does not match the blocks before it',
  'archive-trailing-bytes': 'bytes after the end record',
  'archive-no-parent': 'the first new block builds on a block this node does not have',
  'archive-invalid-block': 'a block breaks a consensus rule (same checks as a block from a peer)',
} as const;

export type ArchiveCode = keyof typeof ARCHIVE_CODES;

export class ArchiveError extends CairnError {
  constructor(
    readonly code: ArchiveCode,
    readonly file: string,
    /** Where the damaged part starts; undefined when the problem is not a place in the file. */
    readonly offset: number | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${file}${offset === undefined ? '' : `: byte ${offset}`}: ${detail}`, options);
  }
}

/** The command asked for something impossible (a range off the chain, a FILE that exists): exit 64. */
export class ArchiveUsageError extends ArchiveError {}
