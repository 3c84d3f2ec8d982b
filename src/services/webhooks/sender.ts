// One webhook POST over node:http(s): a timeout on the whole exchange, no redirects followed, no body read
// back, no connection reused across deliveries, and the private-address rule applied to whatever the
// host name resolves to at connection time (so DNS that changes after creation cannot reach inside).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isLocalHostname, isPrivateAddress } from './address.ts';

export interface SendRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  allowPrivate: boolean;
}

/** The receiver's status, or why there is none. `error` is ours, short and never the receiver's words. */
export type SendResult = { status: number; error?: undefined } | { status: null; error: string };

export type Sender = (r: SendRequest) => Promise<SendResult>;

class PrivateAddressError extends Error {
  readonly code = 'EPRIVATE';
}

/** Resolves a name to all its addresses (dns.lookup with `all: true`); replaceable in tests. */
export type Resolve = (
  hostname: string,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemResolve: Resolve = (hostname, callback) => dnsLookup(hostname, { all: true }, callback);

/** A connection's lookup that refuses the connection when any address the name resolves to is private. */
export function guardedLookup(allowPrivate: boolean, resolve: Resolve = systemResolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, (err, addresses) => {
      if (err) return callback(err, '', 0);
      if (!allowPrivate && addresses.some((a) => isPrivateAddress(a.address))) {
        return callback(new PrivateAddressError('resolves to a private address'), '', 0);
      }
      if ((options as { all?: boolean }).all) {
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      }
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error('no address'), { code: 'ENOTFOUND' }), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

function describe(err: unknown): string {
  if (err instanceof PrivateAddressError) return 'refused: the host resolves to a private address';
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code)
    ? `connection failed: ${code}`
    : 'connection failed';
}

/** The default sender; `resolve` replaces DNS (tests point a name at a local receiver). */
export const createHttpSender =
  (opts: { resolve?: Resolve } = {}): Sender =>
  (r) => {
    const url = new URL(r.url);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!r.allowPrivate && (isLocalHostname(host) || (isIP(host) !== 0 && isPrivateAddress(host)))) {
      // A literal address never reaches the lookup, so it is checked here.
      return Promise.resolve({ status: null, error: 'refused: the address is private' });
    }
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (result: SendResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const req = transport.request(
        url,
        {
          method: 'POST',
          headers: {
            ...r.headers,
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(r.body)),
            'user-agent': 'tenantml-webhooks/1',
          },
          agent: false,
          lookup: guardedLookup(r.allowPrivate, opts.resolve),
        },
        (res) => {
          settle({ status: res.statusCode ?? 0 });
          // The answer's body is of no use to us and may be large or slow: drop the connection.
          res.destroy();
        },
      );
      const timer = setTimeout(() => {
        settle({ status: null, error: `timed out after ${r.timeoutMs} ms` });
        req.destroy();
      }, r.timeoutMs);
      req.on('error', (err) => settle({ status: null, error: describe(err) }));
      req.end(r.body);
    });
  };

export const httpSend: Sender = createHttpSender();
