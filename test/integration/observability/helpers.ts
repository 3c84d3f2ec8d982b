// Helpers of the observability suites: reading one series from a /metrics scrape, a churn CSV to train
// on, and a real OTLP/HTTP receiver (a node:http server keeping what is POSTed to /v1/traces).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { TestPlatform } from '../../helpers/platform.ts';

export async function scrape(tp: TestPlatform): Promise<string> {
  const m = await tp.call({ method: 'GET', url: '/metrics', key: tp.adminKey });
  if (m.status !== 200) throw new Error(`/metrics answered ${m.status}: ${m.text}`);
  return m.text;
}

/** The value of the series `name{labels}` (labels exactly as Prometheus prints them), or undefined. */
export function series(text: string, name: string, labels = ''): number | undefined {
  const head = labels === '' ? `${name} ` : `${name}{${labels}} `;
  const line = text.split('\n').find((l) => l.startsWith(head));
  return line === undefined ? undefined : Number(line.slice(head.length));
}

/** `plan,seats,spend,churned`: a dataset a linear model learns in well under a second. */
export function churnCsv(n: number): string {
  const lines = ['plan,seats,spend,churned'];
  for (let i = 0; i < n; i++) {
    const plan = ['free', 'team', 'pro'][i % 3];
    const seats = (i * 7) % 23;
    lines.push(`${plan},${seats},${plan === 'free' ? 0 : seats * 12.5},${seats < 8 ? 'yes' : 'no'}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  status?: { code?: number };
  resource: Record<string, unknown>;
}

export interface OtlpReceiver {
  url: string;
  /** The raw bodies received (for "no data value was exported" checks). */
  bodies: string[];
  /** Every span received, attributes flattened to key → value. */
  spans(): OtlpSpan[];
  close(): Promise<void>;
}

type AnyValue = {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
};

function anyValue(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  return v.boolValue;
}

const flatten = (attrs: { key: string; value: AnyValue }[] = []): Record<string, unknown> =>
  Object.fromEntries(attrs.map((a) => [a.key, anyValue(a.value)]));

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const bodies: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      bodies.push(body.toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    bodies,
    spans() {
      const out: OtlpSpan[] = [];
      for (const b of bodies) {
        for (const rs of JSON.parse(b).resourceSpans ?? []) {
          const resource = flatten(rs.resource?.attributes);
          for (const ss of rs.scopeSpans ?? [])
            for (const s of ss.spans ?? [])
              out.push({ ...s, attributes: flatten(s.attributes), resource } as OtlpSpan);
        }
      }
      return out;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
