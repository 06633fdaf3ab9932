/**
 * zeromq.js's sendTimeout/receiveTimeout run on libuv's loop time, which is cached at the start of
 * each loop turn. A call made right after the event loop was busy (a long synchronous block connect,
 * a GC pause) starts its timer from that stale time, and libuv runs due timers before it polls the
 * socket: measured here, a receive with a 1 s timeout made after a 1.5 s synchronous stretch failed
 * with EAGAIN after 0 ms while its reply was already waiting. So a timeout only counts when the clock
 * has reached the deadline too; earlier, the operation is simply tried again for the rest. The
 * clock is performance.now() (monotonic): the wall clock set back would stretch a wait by as much.
 */

/** Runs `op(timeoutMs)` until it succeeds, fails otherwise than by EAGAIN, or `deadline` (performance.now() ms) passes. */
export async function beforeDeadline<T>(deadline: number, op: (timeoutMs: number) => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await op(Math.max(1, Math.ceil(deadline - performance.now())));
    } catch (err) {
      if ((err as { code?: string }).code !== 'EAGAIN' || performance.now() >= deadline) throw err;
    }
  }
}
