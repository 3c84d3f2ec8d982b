// Rule 3: a tenant's artifacts are encrypted with its own data key and live under tenants/<id>/;
// deleting the tenant removes its rows and artifacts and destroys its wrapped key.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

// Distinctive values that cannot appear in ciphertext by chance.
const SECRETS = ['zebra-quokka-7731', 'alice.secret@example.com', '4242424242424242', 'Marmalade Boulevard'];
const CSV = `id,label,email,card,street\n1,zebra-quokka-7731,alice.secret@example.com,4242424242424242,Marmalade Boulevard\n2,other,bob@example.com,4000056655665556,Side Street\n`;

for (const kind of STORE_KINDS) {
  describe(`artifacts at rest (${kind})`, () => {
    let tp: TestPlatform;
    let t: { id: string; admin: string; predict: string };
    let other: { id: string; admin: string; predict: string };

    before(async () => {
      tp = await createTestPlatform(kind);
      t = await tp.tenant('crypto-a');
      other = await tp.tenant('crypto-b');
      assert.equal((await tp.upload(t.admin, 'people', CSV)).status, 201);
      assert.equal((await tp.upload(other.admin, 'people', CSV)).status, 201);
    });
    after(() => tp.cleanup());

    test('no uploaded cell value is readable in the stored bytes', () => {
      const files = filesUnder(join(tp.dataDir, 'artifacts', 'tenants', t.id));
      assert.ok(files.length > 0, 'the dataset was stored under the tenant prefix');
      for (const f of files) {
        const bytes = readFileSync(f);
        for (const s of SECRETS) {
          assert.equal(bytes.includes(Buffer.from(s)), false, `${s} found in ${f}`);
          assert.equal(bytes.includes(Buffer.from(s, 'utf16le')), false);
        }
      }
    });

    test('the same data under two tenants is stored as different bytes (separate keys)', () => {
      const a = filesUnder(join(tp.dataDir, 'artifacts', 'tenants', t.id)).map((f) => readFileSync(f));
      const b = filesUnder(join(tp.dataDir, 'artifacts', 'tenants', other.id)).map((f) => readFileSync(f));
      assert.equal(a.length, 1);
      assert.equal(b.length, 1);
      assert.notDeepEqual(a[0].subarray(17, 64), b[0].subarray(17, 64));
    });

    test("an artifact copied into another tenant's folder does not decrypt there", async () => {
      const [mine] = filesUnder(join(tp.dataDir, 'artifacts', 'tenants', t.id));
      const [theirs] = filesUnder(join(tp.dataDir, 'artifacts', 'tenants', other.id));
      const saved = readFileSync(theirs);
      writeFileSync(theirs, readFileSync(mine));
      try {
        const r = await tp.call({ method: 'GET', url: '/v1/datasets/people', key: other.admin });
        assert.equal(r.status, 500);
        assert.equal(r.body.code, 'internal');
        assert.equal(JSON.stringify(r.body).includes('zebra'), false);
      } finally {
        writeFileSync(theirs, saved);
      }
      const ok = await tp.call({ method: 'GET', url: '/v1/datasets/people', key: other.admin });
      assert.equal(ok.status, 200);
    });

    test('deleting the tenant removes its artifacts, its rows and its wrapped key', async () => {
      const keyRows = await tp.ts.query('select tenant_id from tenant_data_keys where tenant_id = ?', [t.id]);
      assert.equal(keyRows.length, 1);
      const del = await tp.call({ method: 'DELETE', url: `/v1/tenants/${t.id}`, key: tp.adminKey });
      assert.equal(del.status, 204);
      assert.equal(existsSync(join(tp.dataDir, 'artifacts', 'tenants', t.id)), false);
      for (const table of [
        'tenant_data_keys',
        'api_keys',
        'datasets',
        'dataset_versions',
        'consent_changes',
        'audit_entries',
      ]) {
        const rows = await tp.ts.query(`select count(*) as n from ${table} where tenant_id = ?`, [t.id]);
        assert.equal(Number(rows[0].n), 0, `${table} still holds rows of the deleted tenant`);
      }
      assert.equal(
        (await tp.ts.query('select count(*) as n from tenants where id = ?', [t.id]))[0].n,
        kind === 'postgres' ? '0' : 0,
      );
      // Its keys no longer authenticate, and the other tenant is untouched.
      assert.equal((await tp.call({ method: 'GET', url: '/v1/datasets', key: t.admin })).status, 401);
      const theirs = await tp.call({ method: 'GET', url: '/v1/datasets/people', key: other.admin });
      assert.equal(theirs.status, 200);
      assert.equal(theirs.body.preview.rows.length, 2);
      // The deletion itself is on the operator's audit chain.
      const audit = await tp.call({ method: 'GET', url: '/v1/audit?tenant=operator', key: tp.adminKey });
      assert.ok(audit.body.entries.some((e: any) => e.action === 'tenant.delete' && e.target === t.id));
    });
  });
}
