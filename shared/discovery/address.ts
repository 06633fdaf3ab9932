/**
 * Which addresses a node may register with discovery: `host:port` as in `peering.announce`
 * (IPv4, [IPv6] or a DNS name; port 1-65535), something another node could dial.
 *
 * Always refused: anything that does not parse, port 0, unspecified addresses (0.0.0.0, [::]),
 * 0.0.0.0/8, multicast, broadcast and reserved IPv4 (224.0.0.0/3). Loopback (127/8, ::1,
 * localhost), private (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) and link-local
 * (169.254/16, fe80::/10) addresses are refused unless private addresses are allowed: always on
 * network `local` (everything runs on one host) and when the operator says so (`allow_private`,
 * for private networks).
 */
import { parseAddress } from '../config/schema.ts';

export type AddressProblem = 'unparsable' | 'unroutable' | 'private';

function ipv4Octets(host: string): number[] {
  return host.split('.').map(Number);
}

/** The problem with an address, or undefined when it may be registered. */
export function addressProblem(address: string, opts: { allowPrivate: boolean }): AddressProblem | undefined {
  if (typeof address !== 'string' || address.length > 100) return 'unparsable';
  const a = parseAddress(address, { hostnames: true });
  if (a === undefined || a.port === 0) return 'unparsable';
  let isPrivate = false;
  if (a.family === 4) {
    const [o1, o2] = ipv4Octets(a.host) as [number, number];
    if (o1 === 0 || o1 >= 224) return 'unroutable';
    isPrivate =
      o1 === 127 ||
      o1 === 10 ||
      (o1 === 172 && o2 >= 16 && o2 <= 31) ||
      (o1 === 192 && o2 === 168) ||
      (o1 === 169 && o2 === 254) ||
      (o1 === 100 && o2 >= 64 && o2 <= 127);
  } else if (a.family === 6) {
    const h = a.host.split('%')[0]!.toLowerCase();
    if (h === '::' || h === '0:0:0:0:0:0:0:0' || h.startsWith('ff')) return 'unroutable';
    isPrivate =
      h === '::1' ||
      h === '0:0:0:0:0:0:0:1' ||
      /^f[cd][0-9a-f]{0,2}:/.test(h) ||
      /^fe[89ab][0-9a-f]?:/.test(h) ||
      h.startsWith('::ffff:');
  } else {
    isPrivate = a.host === 'localhost' || a.host.endsWith('.localhost') || a.host.endsWith('.local');
  }
  if (isPrivate && !opts.allowPrivate) return 'private';
  return undefined;
}
