// A large upload generated on the fly streams through parse → inference → encode without being held
// whole: the producer is never far ahead of the consumer, and the heap stays bounded.
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { ingestDataset } from '../../../src/services/datasets/ingest.ts';

const ROWS = 200_000;
const CHUNK_ROWS = 500;

test('200k generated rows stream through with backpressure and a bounded heap', async (t) => {
  let produced = 0;
  let producedBytes = 0;
  async function* body(): AsyncGenerator<Buffer> {
    const header = Buffer.from('id,group,amount,flag,when,comment\n');
    producedBytes += header.length;
    yield header;
    while (produced < ROWS) {
      let s = '';
      for (let k = 0; k < CHUNK_ROWS && produced < ROWS; k++, produced++) {
        const i = produced;
        s += `${i},g${i % 17},${(i * 0.37).toFixed(2)},${i % 3 === 0},2024-0${1 + (i % 9)}-1${i % 10},"note ${i} about the order, with words"\n`;
      }
      const b = Buffer.from(s);
      producedBytes += b.length;
      yield b;
    }
  }

  const heapBefore = process.memoryUsage().heapUsed;
  let heapPeak = heapBefore;
  let received = -1; // the header line
  let maxLead = 0;
  const sink = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _enc, cb) {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) received++;
      maxLead = Math.max(maxLead, produced - received);
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
      // A slow consumer: the producer must wait for it rather than run ahead.
      setImmediate(cb);
    },
  });

  const { stream, result } = ingestDataset(Readable.from(body()), 'csv', {
    maxRows: 1_000_000,
    maxColumns: 50,
  });
  await Promise.all([result, pipeline(stream, sink)]);
  const outcome = await result;

  assert.equal(outcome.rows, ROWS);
  assert.equal(received, ROWS);
  assert.equal(outcome.bytes, producedBytes);
  assert.deepEqual(
    outcome.schema.columns.map((c) => c.type),
    ['integer', 'categorical', 'numeric', 'boolean', 'datetime', 'text'],
  );
  assert.equal(outcome.schema.columns[0].distinctApprox, true);
  // Buffers between producer and consumer hold a few chunks and batches, never a large share of the rows.
  assert.ok(maxLead < 20_000, `producer ran ${maxLead} rows ahead of the consumer`);
  const growthMb = (heapPeak - heapBefore) / 1e6;
  t.diagnostic(`max lead ${maxLead} rows, heap growth ${growthMb.toFixed(0)} MB`);
  assert.ok(
    growthMb < 150,
    `heap grew by ${growthMb.toFixed(0)} MB for a ${(producedBytes / 1e6).toFixed(0)} MB body`,
  );
});
