import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/core/config.ts';

describe('configuration', () => {
  test('defaults: embedded SQLite in ./data on port 8080', () => {
    const c = loadConfig({}, '/srv/app');
    assert.equal(c.dataDir, '/srv/app/data');
    assert.equal(c.databaseUrl, '/srv/app/data/tenantml.db');
    assert.equal(c.profile, 'embedded');
    assert.equal(c.port, 8080);
    assert.equal(c.adminKey, undefined);
    assert.ok(Object.isFrozen(c));
  });

  test('PostgreSQL selects the distributed profile', () => {
    const c = loadConfig({ TENANTML_DATABASE_URL: 'postgres://app@db/tenantml' }, '/x');
    assert.equal(c.profile, 'distributed');
  });

  test('a master key in hex or base64', () => {
    const hex = loadConfig({ TENANTML_MASTER_KEY: 'ab'.repeat(32) }, '/x');
    assert.equal(hex.masterKey?.length, 32);
    const b64 = loadConfig({ TENANTML_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') }, '/x');
    assert.deepEqual(b64.masterKey, Buffer.alloc(32, 7));
  });

  test('every bad value is reported at once, each naming its variable', () => {
    try {
      loadConfig(
        {
          TENANTML_PORT: 'eighty',
          TENANTML_ADMIN_KEY: 'short',
          TENANTML_MASTER_KEY: 'nope',
          TENANTML_LOG_LEVEL: 'loud',
          TENANTML_DATABASE_URL: 'mysql://db/x',
          TENANTML_MAX_UPLOAD_BYTES: '-5',
          TENANTML_PROT: '8080',
        },
        '/x',
      );
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      const names = [
        'TENANTML_PORT',
        'TENANTML_ADMIN_KEY',
        'TENANTML_MASTER_KEY',
        'TENANTML_LOG_LEVEL',
        'TENANTML_DATABASE_URL',
        'TENANTML_MAX_UPLOAD_BYTES',
        'TENANTML_PROT',
      ];
      assert.equal(err.problems.length, names.length);
      for (const n of names)
        assert.ok(
          err.problems.some((p) => p.startsWith(n)),
          n,
        );
    }
  });

  test("the client commands' own variables are not the server's business", () => {
    const c = loadConfig({ TENANTML_URL: 'http://x', TENANTML_API_KEY: 'k', TENANTML_TENANT: 't' }, '/x');
    assert.equal(c.port, 8080);
  });

  test('a port out of range', () => {
    assert.throws(() => loadConfig({ TENANTML_PORT: '70000' }, '/x'), /TENANTML_PORT must be between/);
  });
});
