/**
 * Waiting for a ZeroMQ subscriber to be heard: a SUB socket sends its subscriptions right after
 * its handshake with the publisher, so a test that publishes before then (a fixed sleep after
 * connect() on a loaded machine, or a slow CURVE handshake) loses its first messages.
 */
import type { Subscriber } from 'zeromq';

/** Pause after the handshake for the subscription to reach the publisher (same machine). */
const SUBSCRIPTION_MS = 200;

/**
 * Resolves once `sub` completed a handshake with its publisher and a moment has passed for its
 * subscriptions to arrive; rejects after `ms` naming `what`. Call it before `connect()`, which
 * may complete the handshake before a later listener is attached.
 */
export function heard(sub: Subscriber, what: string, ms = 30_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no ZMQ handshake within ${ms} ms`)), ms);
    sub.events.on('handshake', () => {
      clearTimeout(timer);
      setTimeout(resolve, SUBSCRIPTION_MS);
    });
  });
}
