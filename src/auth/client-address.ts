import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key the failure limiter counts a client under: an IPv4 address as is (also when the socket
 * shows it IPv4-mapped, ::ffff:a.b.c.d), an IPv6 address by its /64, since one host is usually
 * given a whole /64 and could otherwise take a fresh address for every few attempts.
 */
export function addressKey(ip: string | undefined): string {
  if (!ip) {
    return 'unknown';
  }
  const bare = ip.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped && isIPv4(mapped[1])) {
    return mapped[1];
  }
  if (isIPv4(bare) || !isIPv6(bare)) {
    return bare;
  }
  return `${expandIPv6(bare).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, as lower-case hex without leading zeros. */
function expandIPv6(ip: string): string[] {
  let text = ip.toLowerCase();
  // a trailing dotted IPv4 part stands for the last two groups
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => parseInt(group, 16).toString(16));
}

/** A client's address as recorded (the audit log): the whole address, IPv4-mapped ones as IPv4. */
export function clientAddress(ip: string | undefined): string | null {
  if (!ip) {
    return null;
  }
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped && isIPv4(mapped[1]) ? mapped[1] : ip;
}
