// Isolation rule 1: only the auth layer (and operator/system paths that act on a named tenant) mint a
// TenantScope. This test fails when any other module starts minting scopes.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const ROOT = new URL('../../../', import.meta.url).pathname;
const ALLOWED = new Set([
  'src/core/scope.ts', // defines it
  'src/api/auth.ts', // the auth layer
  'src/api/routes/tenants.ts', // operator routes acting on the tenant named in the path
  'src/services/tenants.ts', // operator reading a tenant's consent history
  'src/services/training.ts', // system: counting the tenants a shared training could pool from
  'src/services/provenance.ts', // system: retraining a tuned model in its tenant after its base was tainted
  'src/services/monitoring/service.ts', // system: the monitoring loop acts on each watched model's tenant
  'src/platform.ts', // system: the after-job hook acts on the finished job's own tenant
  'src/services/webhooks/dispatcher.ts', // system: a claimed delivery is sent in its own tenant
  // system: the budget evaluator reads each budgeted tenant's usage and alerts in it; the predict
  // path's budget check reads the (authenticated) tenant's own budget before its body is read
  'src/services/metering/budgets.ts',
]);
// Later issues add system paths (workers, schedulers); each must be listed here deliberately.
const SYSTEM_PREFIXES = ['src/jobs/', 'src/cli/'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('only the auth layer and listed system paths mint tenant scopes', () => {
  const offenders = files(join(ROOT, 'src'))
    .map((f) => relative(ROOT, f))
    .filter((f) => !ALLOWED.has(f) && !SYSTEM_PREFIXES.some((p) => f.startsWith(p)))
    .filter((f) => /mintTenantScope\s*\(/.test(readFileSync(join(ROOT, f), 'utf8')));
  assert.deepEqual(offenders, []);
});
