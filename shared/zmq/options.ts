/**
 * Shared socket settings of the transport: heartbeats, endpoints.
 */
import type { Socket } from 'zeromq';
import { CURVE_MESSAGE_OVERHEAD } from './curve.ts';
import { TransportError } from './errors.ts';

/**
 * ZMTP heartbeats (PING/PONG) detect dead peers, half-open TCP connections included: a
 * connection that sends nothing for `timeoutMs` after a PING is closed (and, on a connecting
 * socket, reconnected). `ttlMs` asks the peer to drop us if it hears nothing for that long.
 */
export interface HeartbeatOptions {
  intervalMs: number;
  timeoutMs: number;
  ttlMs: number;
}

export const DEFAULT_HEARTBEAT: HeartbeatOptions = { intervalMs: 5_000, timeoutMs: 15_000, ttlMs: 15_000 };

export function heartbeatSocketOptions(hb: HeartbeatOptions | false | undefined): {
  heartbeatInterval?: number;
  heartbeatTimeout?: number;
  heartbeatTimeToLive?: number;
} {
  if (hb === false) return {};
  const h = hb ?? DEFAULT_HEARTBEAT;
  for (const [k, v] of Object.entries(h))
    if (!Number.isInteger(v) || v <= 0)
      throw new TransportError('transport-config', `heartbeat ${k} must be > 0`);
  // libzmq stores the TTL in deciseconds (0..6553.5 s).
  return {
    heartbeatInterval: h.intervalMs,
    heartbeatTimeout: h.timeoutMs,
    heartbeatTimeToLive: Math.min(Math.max(h.ttlMs, 100), 6_553_500),
  };
}

/** What a requesting client socket (REQ or DEALER) is built with, whatever its pattern. */
export interface DialSettings {
  maxMessageSize: number;
  heartbeat: HeartbeatOptions | false | undefined;
  reconnectIntervalMs: number;
  reconnectMaxIntervalMs: number;
}

/**
 * Socket options of a client connecting to `endpoint`: its CURVE options, heartbeats, room for
 * the CURVE overhead on each message, reconnect back-off, `linger` 0 (a dropped socket drops its
 * queue), and `immediate` false (a request made just after connecting need not race the TCP
 * connect). `highWaterMark`: messages queued each way.
 */
export function dialSocketOptions<C extends object>(
  curve: C,
  endpoint: string,
  s: DialSettings,
  highWaterMark: number,
) {
  return {
    ...curve,
    ...heartbeatSocketOptions(s.heartbeat),
    ipv6: isIpv6Endpoint(endpoint),
    maxMessageSize: s.maxMessageSize + CURVE_MESSAGE_OVERHEAD,
    reconnectInterval: s.reconnectIntervalMs,
    reconnectMaxInterval: s.reconnectMaxIntervalMs,
    sendHighWaterMark: highWaterMark,
    receiveHighWaterMark: highWaterMark,
    linger: 0,
    immediate: false,
  };
}

/** Closes a client socket at once, dropping what it still queues (a no-op once closed). */
export function dropSocket(socket: Socket | null): void {
  if (socket !== null && !socket.closed) {
    socket.linger = 0;
    socket.close();
  }
}

/** True when a tcp endpoint's host is an IPv6 literal (`tcp://[::1]:2136`): the socket needs `ipv6`. */
export function isIpv6Endpoint(endpoint: string): boolean {
  return /^tcp:\/\/\[/.test(endpoint);
}

/**
 * True when the endpoint can only be reached from this host: tcp on 127.0.0.0/8, ::1 or
 * localhost, or ipc/inproc.
 */
export function isLoopbackEndpoint(endpoint: string): boolean {
  if (endpoint.startsWith('ipc://') || endpoint.startsWith('inproc://')) return true;
  const m = /^tcp:\/\/(?:\[([^\]]+)\]|([^:/]+)):(\d+|\*)$/.exec(endpoint);
  if (m === null) return false;
  if (m[1] !== undefined) return m[1] === '::1' || m[1] === '0:0:0:0:0:0:0:1';
  const host = m[2]!;
  return host === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function checkEndpoints(endpoints: readonly string[], what: string): void {
  if (!Array.isArray(endpoints) || endpoints.length === 0)
    throw new TransportError('transport-config', `${what}: at least one endpoint is required`);
  for (const e of endpoints)
    if (typeof e !== 'string' || !/^(tcp|ipc|inproc):\/\/.+/.test(e))
      throw new TransportError(
        'transport-config',
        `${what}: '${String(e)}' is not a tcp://, ipc:// or inproc:// endpoint`,
      );
}

/**
 * socket.bind(), retrying EADDRINUSE for up to `retryMs`: libzmq closes a listener on its I/O
 * thread after close()/unbind() returns, so a server restarted in the same process can briefly
 * find its own old port still taken.
 */
export async function bindWithRetry(socket: Socket, endpoint: string, retryMs: number): Promise<void> {
  const end = Date.now() + retryMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    try {
      await socket.bind(endpoint);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EADDRINUSE' || Date.now() + delay > end) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/**
 * Binds every endpoint (with bindWithRetry) and returns what was bound, `:*` resolved to the
 * port the system chose. On a failure the socket is closed at once (linger 0) and a
 * `transport-bind` error names `what` and the endpoints.
 */
export async function bindAll(
  socket: Socket,
  endpoints: readonly string[],
  retryMs: number,
  what: string,
): Promise<string[]> {
  const bound: string[] = [];
  try {
    for (const endpoint of endpoints) {
      await bindWithRetry(socket, endpoint, retryMs);
      bound.push(endpoint.endsWith(':*') ? (socket.lastEndpoint ?? endpoint) : endpoint);
    }
  } catch (cause) {
    socket.linger = 0;
    socket.close();
    throw new TransportError(
      'transport-bind',
      `${what}: cannot bind ${endpoints.join(', ')}: ${String(cause)}`,
      {
        cause,
      },
    );
  }
  return bound;
}
