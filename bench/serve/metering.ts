// The cost of metering on the predict path (issue 8): single-row predicts on a 100-tree model, closed
// loop, against two servers alike but for TENANTML_METERING (on / off), measured in alternation
// (on, off, on, off, …) so that the machine's drift falls on both alike; the medians are compared.
// The "on" server's metered rows are read back from its store afterwards, so the measured path did meter.
// Both servers run from the build in processes of their own (server-process.ts).
import { median } from '../common.ts';
import type { JobResult } from './loadgen.ts';
import { type LoadGen, predictServer, type trainBenchModel } from './rig.ts';

export interface MeteringCost {
  rounds: number;
  on: JobResult[];
  off: JobResult[];
  medianOn: number;
  medianOff: number;
  /** 1 − on/off: the share of throughput metering costs (negative: within noise, on was faster). */
  cost: number;
  /** Predicted rows the "on" server metered (flushed on close), and the 200s it answered. */
  meteredRows: number;
  answeredOn: number;
}

export async function meteringCost(
  lg: LoadGen,
  o: { durationMs: number; connections: number; rounds: number },
  trained: ReturnType<typeof trainBenchModel>,
): Promise<MeteringCost> {
  const on = await predictServer({ TENANTML_METERING: 'on' }, 'bench-m', trained);
  const off = await predictServer({ TENANTML_METERING: 'off' }, 'bench-m', trained);
  const results: { on: JobResult[]; off: JobResult[] } = { on: [], off: [] };
  try {
    for (let r = 0; r < o.rounds; r++) {
      // Alternate which goes first, so neither always follows the other's garbage or warm caches.
      const order = r % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
      for (const which of order) {
        const { s, job } = which === 'on' ? on : off;
        const [res] = await lg.run(s.port, [
          {
            ...job,
            name: `predict metering ${which} #${r + 1}`,
            mode: 'closed',
            connections: o.connections,
            durationMs: o.durationMs + 1000,
            warmupMs: 1000,
          },
        ]);
        results[which].push(res);
      }
    }
    const answeredOn = results.on.reduce((a, x) => a + (x.statuses['200'] ?? 0), 0) + 1; // + the warm-up
    const rows = await on.s.meteredRows('bench-m'); // after the meter's buffer is written
    const medianOn = median(results.on.map((x) => x.rps));
    const medianOff = median(results.off.map((x) => x.rps));
    return {
      rounds: o.rounds,
      on: results.on,
      off: results.off,
      medianOn,
      medianOff,
      cost: 1 - medianOn / medianOff,
      meteredRows: rows,
      answeredOn,
    };
  } finally {
    await on.s.close();
    await off.s.close();
  }
}
