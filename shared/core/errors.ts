import type { RejectCode } from './reject-codes.ts';

/**
 * Typed errors of the consensus core. Every error has a stable `code` that callers (RPC, P2P
 * misbehaviour scoring, logs) can switch on; messages are for humans and may change.
 */

/** Base of every error the core throws on purpose. */
export abstract class CairnError extends Error {
  abstract readonly code: string;
  override get name(): string {
    return this.constructor.name;
  }
}

export type DecodeErrorCode =
  | 'decode-truncated'
  | 'decode-trailing-bytes'
  | 'decode-noncanonical-varint'
  | 'decode-varint-overflow'
  | 'decode-too-large'
  | 'decode-bad-value';

/** Bytes that are not the one canonical encoding of a value. `field` names the field being read. */
export class DecodeError extends CairnError {
  constructor(
    readonly code: DecodeErrorCode,
    readonly field: string,
    detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

/**
 * A consensus or policy rule was broken. `code` is the reject code listed in docs/protocol.md
 * (Bitcoin Core's spelling where the rule exists there). `dos` is how much the sender is to blame
 * (0 = could happen to an honest peer, 100 = provably malicious), for misbehaviour scoring.
 */
export class ValidationError extends CairnError {
  constructor(
    readonly code: RejectCode,
    message: string,
    readonly dos = 100,
  ) {
    super(`${code}: ${message}`);
  }
}

/** A caller passed the core something that no valid input could produce (a bug, not bad data). */
export class UsageError extends CairnError {
  readonly code = 'usage';
}
