import { CairnError } from '../../../shared/core/errors.ts';

/** Error codes a peer can receive in an `error` reply (docs/protocol.md §P2P errors). */
export type WireErrorCode =
  | 'bad-frames'
  | 'unknown-command'
  | 'handshake-required'
  | 'wrong-network'
  | 'incompatible-version'
  | 'bad-proof'
  | 'clock-skew'
  | 'banned'
  | 'rate-limited'
  | 'malformed'
  | 'too-many-peers'
  | 'internal';

/** A peer broke the protocol or refused us; `code` is the wire code. */
export class PeerError extends CairnError {
  constructor(
    readonly code: WireErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
