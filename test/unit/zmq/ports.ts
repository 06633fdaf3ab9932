/**
 * Free TCP ports for tests. They are drawn at random from 20000-32767, below the kernel's
 * ephemeral range (32768-60999 on Linux): a port the kernel picked for `listen(0)` is free now,
 * but once released it may become the source port of any outgoing connection on the machine (ZMQ
 * dials, HTTP clients), and a process binding it a moment later fails with EADDRINUSE. Every
 * candidate is checked by listening on it; all stay open until `count` are chosen, so no port is
 * handed out twice.
 */
import { createServer, type Server } from 'node:net';

const LOW = 20_000;
const HIGH = 32_767;

function listen(host: string, port: number): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (e: NodeJS.ErrnoException) =>
      e.code === 'EADDRINUSE' || e.code === 'EACCES' ? resolve(undefined) : reject(e),
    );
    server.listen({ port, host, exclusive: true }, () => resolve(server));
  });
}

/**
 * Ports this process handed out already: a port is free again the moment its check closes, so two
 * calls before either caller binds (two nodes made, then started together) could get the same one.
 */
const handedOut = new Set<number>();

export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let tries = 0; servers.length < count; tries++) {
      if (tries > 1000) throw new Error(`no ${count} free ports in ${LOW}-${HIGH} on ${host}`);
      const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
      if (handedOut.has(port)) continue;
      const s = await listen(host, port);
      if (s !== undefined) servers.push(s);
    }
    return servers.map((s) => {
      const addr = s.address();
      if (addr === null || typeof addr === 'string') throw new Error('no port');
      handedOut.add(addr.port);
      return addr.port;
    });
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return (await freePorts(1, host))[0]!;
}

/** True when this host can listen on ::1 (IPv6 loopback). */
export async function hasIpv6Loopback(): Promise<boolean> {
  try {
    await freePort('::1');
    return true;
  } catch {
    return false;
  }
}
