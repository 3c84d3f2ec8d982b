// A column of a dataset schema for tests that train models on generated rows: nullable, no missing
// values recorded, not identifying.
import type { ColumnSchema, ColumnType } from '../../src/core/types.ts';

export const col = (name: string, type: ColumnType): ColumnSchema => ({
  name,
  type,
  nullable: true,
  missing: 0,
  distinct: 10,
  distinctApprox: false,
  identifying: false,
  identifyingReasons: [],
});
