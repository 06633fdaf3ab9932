/**
 * Typed errors of the ZeroMQ transport. Callers switch on `code`; messages are for humans.
 */
import { CairnError } from '../core/errors.ts';

export type TransportErrorCode =
  /** No reply within the caller's deadline (the peer is slow, down, or refused our key). */
  | 'transport-timeout'
  /** The client or server was closed while the request was queued or outstanding. */
  | 'transport-closed'
  /** Too many requests already queued on this client. */
  | 'transport-busy'
  /** A configuration that cannot work or is unsafe (bad key, plain socket on a public address...). */
  | 'transport-config'
  /** A server socket was started while no ZAP handler runs in this process. */
  | 'transport-no-zap'
  /** Binding an endpoint failed. */
  | 'transport-bind';

export class TransportError extends CairnError {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
