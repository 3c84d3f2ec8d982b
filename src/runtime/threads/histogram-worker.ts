// Entry of a histogram worker thread (started by histogram-pool.ts; runtime/entry.ts workerBootstrap).
import { workerData } from 'node:worker_threads';
import type { WorkerData } from './protocol.ts';
import { serve } from './worker-loop.ts';

serve(workerData as WorkerData);
