import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ContentDetector,
  detectCell,
  identifyingByName,
  isCardNumber,
  isEmail,
  isIpv4,
  isIpv6,
  isPhoneNumber,
  luhnValid,
  nameWords,
  scrubText,
} from '../../../src/core/identifying.ts';

describe('identifyingByName', () => {
  test('splits snake, kebab, camel, Pascal and digits', () => {
    assert.deepEqual(nameWords('customerEmailAddress'), ['customer', 'email', 'address']);
    assert.deepEqual(nameWords('E-Mail_2'), ['e', 'mail', '2']);
    assert.deepEqual(nameWords('IPAddress'), ['ip', 'address']);
    assert.deepEqual(nameWords('date.of.birth'), ['date', 'of', 'birth']);
  });

  const cases: [string, string[]][] = [
    ['email', ['email']],
    ['E-Mail', ['email']],
    ['customerEmail', ['email']],
    ['email_address', ['email']],
    ['email2', ['email']],
    ['phone', ['phone']],
    ['phone_number', ['phone']],
    ['mobile', ['phone']],
    ['tel', ['phone']],
    ['name', ['name']],
    ['first_name', ['name']],
    ['lastName', ['name']],
    ['FULLNAME', ['name']],
    ['surname', ['name']],
    ['customer_name', ['name']],
    ['username', ['name']],
    ['address', ['address']],
    ['street', ['address']],
    ['billing_address', ['address']],
    ['address_line_1', ['address']],
    ['ssn', ['national_id']],
    ['social_security_number', ['national_id']],
    ['passport_number', ['passport']],
    ['iban', ['bank_account']],
    ['credit_card', ['credit_card']],
    ['card_number', ['credit_card']],
    ['ip', ['ip_address']],
    ['ip_address', ['ip_address']],
    ['IPAddress', ['ip_address']],
    ['dob', ['date_of_birth']],
    ['date_of_birth', ['date_of_birth']],
    ['birthDate', ['date_of_birth']],
  ];
  for (const [name, kinds] of cases) {
    test(`${name} → ${kinds.join(',')}`, () => assert.deepEqual(identifyingByName(name), kinds));
  }

  const clean = [
    'filename',
    'file_name',
    'product_name',
    'company_name',
    'email_verified',
    'has_email',
    'num_phones',
    'is_mobile',
    'mobile_app_version',
    'phone_type',
    'email_domain',
    'hotel',
    'zip',
    'ship_date',
    'tip',
    'address_count',
    'mac_address',
    'age',
    'amount',
  ];
  for (const name of clean) {
    test(`${name} is not identifying`, () => assert.deepEqual(identifyingByName(name), []));
  }
});

describe('content detectors', () => {
  test('emails', () => {
    for (const s of ['a@example.com', 'first.last+tag@mail.example.co.uk', "o'brien@example.ie"])
      assert.equal(isEmail(s), true, s);
    for (const s of ['a@b', '@example.com', 'a@@example.com', 'a@example.c', 'plain text', 'a.@example'])
      assert.equal(isEmail(s), false, s);
  });

  test('Luhn', () => {
    assert.equal(luhnValid('4111111111111111'), true);
    assert.equal(luhnValid('4111111111111112'), false);
    assert.equal(luhnValid('79927398713'), true);
    assert.equal(luhnValid('7992739871x'), false);
  });

  test('card numbers: Luhn-valid, known issuer digit, consistent grouping', () => {
    for (const s of [
      '4111111111111111',
      '4111 1111 1111 1111',
      '4111-1111-1111-1111',
      '378282246310005',
      '5555555555554444',
    ])
      assert.equal(isCardNumber(s), true, s);
    for (const s of [
      '4111111111111112', // Luhn fails
      '1111111111111117', // Luhn-valid, but no issuer starts with 1
      '0000000000000000',
      '4111 1111-1111 1111', // mixed separators
      '41 11 11 11 11 11 11 11', // groups too small
      '411111111111', // too short
    ])
      assert.equal(isCardNumber(s), false, s);
  });

  test('phone numbers', () => {
    for (const s of [
      '+1 555 123 4567',
      '+4915112345678',
      '(555) 123-4567',
      '555-123-4567',
      '020 7946 0958',
      '+44 20 7946 0958',
    ])
      assert.equal(isPhoneNumber(s), true, s);
    for (const s of [
      '1234567',
      '3.14159',
      '2024-01-31',
      '31.01.2024',
      '12-34',
      '192.168.0.1',
      '1,234,567',
      '555 1234',
    ])
      assert.equal(isPhoneNumber(s), false, s);
  });

  test('IP addresses', () => {
    assert.equal(isIpv4('192.168.0.1'), true);
    assert.equal(isIpv4('256.1.1.1'), false);
    assert.equal(isIpv4('1.2.3'), false);
    for (const s of ['2001:db8::1', '::1', 'fe80::1ff:fe23:4567:890a', '::ffff:192.0.2.1', '1:2:3:4:5:6:7:8'])
      assert.equal(isIpv6(s), true, s);
    for (const s of ['12:30:45', '00:1A:2B:3C:4D:5E', '1:2:3:4:5:6:7:8:9', '2001:db8:::1', 'g::1', '1::2::3'])
      assert.equal(isIpv6(s), false, s);
  });

  test('detectCell picks the kind', () => {
    assert.equal(detectCell(' a@example.com '), 'email');
    assert.equal(detectCell('10.0.0.1'), 'ip_address');
    assert.equal(detectCell('4111111111111111'), 'credit_card');
    assert.equal(detectCell('+1 555 123 4567'), 'phone');
    assert.equal(detectCell('hello'), undefined);
    assert.equal(detectCell('42'), undefined);
  });

  test('ContentDetector flags a kind at the threshold', () => {
    const d = new ContentDetector(0.3);
    for (let i = 0; i < 7; i++) d.observe(`word ${i}`);
    for (let i = 0; i < 3; i++) d.observe(`4111 1111 1111 1111`);
    assert.deepEqual(d.flagged(), ['credit_card']);
    const d2 = new ContentDetector(0.3);
    for (let i = 0; i < 8; i++) d2.observe('nothing here');
    for (let i = 0; i < 2; i++) d2.observe('4111111111111112'); // Luhn-invalid: not a card
    assert.deepEqual(d2.flagged(), []);
  });
});

describe('scrubText', () => {
  test('replaces each kind by its Presidio token', () => {
    assert.equal(
      scrubText('Mail john.doe@example.com or call +1 (555) 123-4567.'),
      'Mail <EMAIL_ADDRESS> or call <PHONE_NUMBER>.',
    );
    assert.equal(scrubText('card 4111 1111 1111 1111 declined'), 'card <CREDIT_CARD> declined');
    assert.equal(scrubText('from 10.0.0.1 and 2001:db8::ff00:42:8329'), 'from <IP_ADDRESS> and <IP_ADDRESS>');
    assert.equal(scrubText('see https://example.com/a?b=1, or www.example.org.'), 'see <URL>, or <URL>.');
    assert.equal(scrubText('reach me at 555-123-4567'), 'reach me at <PHONE_NUMBER>');
    assert.equal(scrubText('home 555-123-4567 555-987-6543 work'), 'home <PHONE_NUMBER> <PHONE_NUMBER> work');
  });

  test('a link with an address in it is one URL', () => {
    assert.equal(scrubText('go to http://user@host.example.com/x'), 'go to <URL>');
  });

  test('leaves ordinary numbers, dates, times and Luhn-invalid digit runs alone', () => {
    const s = 'On 2024-01-31 at 12:30:45 I paid 1234.56 for 3 items, order 4111111111111112, ref 1234567.';
    assert.equal(scrubText(s), s);
  });

  test('empty and plain text unchanged', () => {
    assert.equal(scrubText(''), '');
    assert.equal(scrubText('nothing to see'), 'nothing to see');
  });

  test('runs in linear time on adversarial input', () => {
    const inputs = [
      `${'a'.repeat(50_000)}@`,
      `${'a.'.repeat(25_000)}@x`,
      'a@'.repeat(25_000),
      '1'.repeat(50_000),
      '1 '.repeat(25_000),
      '1-'.repeat(25_000),
      '1.'.repeat(25_000),
      '1:'.repeat(25_000),
      'a:'.repeat(25_000),
      '(1'.repeat(25_000),
      `http://${'a'.repeat(50_000)}`,
    ];
    for (const s of inputs) {
      const t0 = performance.now();
      scrubText(s);
      const ms = performance.now() - t0;
      assert.ok(ms < 1000, `${s.slice(0, 10)}… took ${ms.toFixed(0)} ms`);
    }
  });
});
