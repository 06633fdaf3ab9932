import { CairnError } from '../../../shared/core/errors.ts';

export type ChainErrorCode = 'bad-prevblk' | 'prev-blk-not-found' | 'duplicate-invalid' | 'reorg-too-deep';

/** A block or header refused by the chain manager for where it sits, not for its content. */
export class ChainError extends CairnError {
  constructor(
    readonly code: ChainErrorCode,
    message: string,
    readonly dos = 0,
  ) {
    super(`${code}: ${message}`);
  }
}
