import { CairnError } from '../../../shared/core/errors.ts';

export type PruneErrorCode = 'block-pruned' | 'reindex-pruned' | 'prune-disabled' | 'prune-height';

/** What a pruned node cannot do (serve, re-read or rebuild from deleted blocks); the message says what to do. */
export class PruneError extends CairnError {
  constructor(
    readonly code: PruneErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Bitcoin Core's wording for a block whose data was pruned (getblock, REST). */
export const BLOCK_PRUNED_MESSAGE = 'Block not available (pruned data)';
