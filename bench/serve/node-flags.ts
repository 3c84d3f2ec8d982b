// What node/V8 flags cost the predict path: two predict servers from the build, one with the flags and one
// without, each with the bench's tenant and 100-tree model (bench/serve/rig.ts), their closed-loop peaks
// (16 connections, 7 s after 1 s of warm-up) read in alternation, with each server's RSS and V8 heap after
// every reading. Unrecorded; `node --import tsx bench/serve/node-flags.ts "--max-semi-space-size=4" [rounds]`.
import { BIG_QUOTAS, instance, LoadGen, trainBenchModel } from './rig.ts';
import { ServerProcess } from './server-process.ts';

const flags = (process.argv[2] ?? '').split(' ').filter(Boolean);
const rounds = Number(process.argv[3] ?? 3);
if (flags.length === 0 || !Number.isInteger(rounds) || rounds < 1) {
  console.error('usage: node --import tsx bench/serve/node-flags.ts "<node flags>" [rounds]');
  process.exit(2);
}
const trained = trainBenchModel(100, 6);

async function server(nodeArgs: string[]) {
  const s = await ServerProcess.start({}, { nodeArgs });
  const key = await s.tenant('bench-a', BIG_QUOTAS);
  await s.register('bench-a', 'm100', trained);
  const job = {
    method: 'POST' as const,
    path: '/v1/models/m100/predict',
    headers: { Authorization: `Bearer ${key}` },
    body: JSON.stringify({ instances: [instance(1)] }),
  };
  return { s, job };
}

const servers = { default: await server([]), flags: await server(flags) };
const lg = new LoadGen();
const peaks: Record<keyof typeof servers, number[]> = { default: [], flags: [] };
const mb = (b: number) => (b / 1e6).toFixed(1);
console.log(`node flags ${flags.join(' ')} against none; ${rounds} alternated rounds`);
console.log(
  '| round | server | req/s | p99 (ms) | RSS (MB) | V8 heap total / used (MB) |\n|---|---|---|---|---|---|',
);
try {
  for (let r = 0; r < rounds; r++) {
    const order: (keyof typeof servers)[] = r % 2 ? ['flags', 'default'] : ['default', 'flags'];
    for (const name of order) {
      const { s, job } = servers[name];
      const [out] = await lg.run(s.port, [
        { name, ...job, mode: 'closed', connections: 16, durationMs: 8000, warmupMs: 1000 },
      ]);
      peaks[name].push(out.rps);
      const m = await s.memory();
      console.log(
        `| ${r + 1} | ${name} | ${out.rps.toFixed(0)} | ${out.p99.toFixed(2)} | ${mb(m.rss)} | ${mb(m.heapTotal)} / ${mb(m.heapUsed)} |`,
      );
    }
  }
} finally {
  lg.close();
  await servers.default.s.close();
  await servers.flags.s.close();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const d = median(peaks.default);
const f = median(peaks.flags);
console.log(
  `median peak: none ${d.toFixed(0)}, flags ${f.toFixed(0)} req/s (${((100 * (f - d)) / d).toFixed(1)}%)`,
);
