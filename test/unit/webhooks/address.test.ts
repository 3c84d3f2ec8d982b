// Which webhook URLs are accepted: http(s) only, no credentials, and by default nothing that points
// inside the platform's network (loopback, private, link-local, reserved), however it is spelled.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isPrivateAddress } from '../../../src/services/webhooks/address.ts';
import { webhookUrlProblem } from '../../../src/services/webhooks/service.ts';

describe('webhook URLs', () => {
  test('public http and https URLs are accepted', () => {
    for (const u of [
      'https://hooks.example.com/tenantml',
      'http://203.0.114.7:8080/x?y=1',
      'https://[2606:4700::1111]/h',
    ]) {
      assert.equal(webhookUrlProblem(u, false), null, u);
    }
  });

  test('other schemes, credentials, fragments and non-URLs are refused', () => {
    assert.match(webhookUrlProblem('ftp://example.com/x', false)!, /http or https/);
    assert.match(webhookUrlProblem('file:///etc/passwd', false)!, /http or https/);
    assert.match(webhookUrlProblem('https://user:pw@example.com/', false)!, /credentials/);
    assert.match(webhookUrlProblem('https://user@example.com/', false)!, /credentials/);
    assert.match(webhookUrlProblem('https://example.com/#x', false)!, /fragment/);
    assert.match(webhookUrlProblem('example.com/hook', false)!, /absolute URL/);
    assert.match(webhookUrlProblem(`https://example.com/${'a'.repeat(2100)}`, false)!, /2048/);
  });

  test('private, loopback and link-local addresses are refused by default, in every spelling', () => {
    for (const u of [
      'http://127.0.0.1/',
      'http://localhost:8080/',
      'http://api.localhost/',
      'http://10.1.2.3/',
      'http://172.16.0.1/',
      'http://192.168.1.1/',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[fd00::1]/',
      'http://[fe80::1]/',
      'http://0.0.0.0/',
      'http://2130706433/', // 127.0.0.1 as one number
      'http://0x7f.1/', // 127.0.0.1 in hex
      'http://100.64.0.1/',
    ]) {
      assert.match(webhookUrlProblem(u, false) ?? 'accepted', /this machine|private/, u);
    }
  });

  test('allowPrivate lets them through (embedded setups, tests)', () => {
    assert.equal(webhookUrlProblem('http://127.0.0.1:9000/hook', true), null);
    assert.equal(webhookUrlProblem('http://localhost/hook', true), null);
    assert.match(webhookUrlProblem('http://u:p@127.0.0.1/', true)!, /credentials/);
  });

  test('address classification', () => {
    for (const a of [
      '127.0.0.1',
      '10.0.0.1',
      '::1',
      '::ffff:7f00:1',
      '64:ff9b::a00:1',
      'fe80::1',
      '255.255.255.255',
      'not-an-ip',
    ]) {
      assert.equal(isPrivateAddress(a), true, a);
    }
    for (const a of ['8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808']) {
      assert.equal(isPrivateAddress(a), false, a);
    }
  });
});
