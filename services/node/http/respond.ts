/** One way to answer an HTTP request for the node's three listeners (RPC, REST, metrics). */
import type { ServerResponse } from 'node:http';

/** Writes a whole response: status, type, exact length, extra headers; no body for HEAD. */
export function respond(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...headers,
    'Content-Type': type,
    'Content-Length': String(Buffer.byteLength(body)),
    // browsers must not guess another type (the explorer and REST share the port with RPC)
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}
