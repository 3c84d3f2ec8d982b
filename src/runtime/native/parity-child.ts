// Entry of the parity probe's child process (started by parity-probe.ts processParity): runs the probe,
// which loads ONNX Runtime here rather than in the serving process, sends the report and ends.
import { type ParityMessage, runParityProbe } from './parity-probe.ts';

const report = await runParityProbe();
const message: ParityMessage = { differs: [...report.differs], durationMs: report.durationMs };
process.send?.(message, () => process.disconnect());
