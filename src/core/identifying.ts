// Detects data that identifies a person: by a column's name, by its content, and inside free text.
// Schema inference flags identifying columns; shared-model training drops them and scrubs text columns
// with scrubText, so these rules decide what leaves a tenant's boundary. Pure: no I/O.
//
// Every pattern here is written to run in linear time: a token may only start where the previous
// character cannot belong to it (a negative lookbehind on its own character class), and every
// repetition is either bounded or unambiguous, so there is no catastrophic backtracking.

/** What kind of identifying data a detector found. */
export type IdentifyingKind =
  | 'email'
  | 'phone'
  | 'name'
  | 'address'
  | 'national_id'
  | 'passport'
  | 'bank_account'
  | 'credit_card'
  | 'ip_address'
  | 'date_of_birth';

// ---------------------------------------------------------------------------------------------------
// By column name

/**
 * Splits a column name into lower-case words: snake_case, kebab-case, camelCase, PascalCase, dotted,
 * spaced, and letter/digit boundaries (`email2` → `email`, `2`).
 */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([A-Za-z])(\d)/g, '$1 $2')
    .replace(/(\d)([A-Za-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

interface NameRule {
  kind: IdentifyingKind;
  /** Word sequences; a run of the column's words matches when their concatenation equals the pattern's. */
  patterns: string[][];
  /** When set, the match must start the name or follow one of these words. */
  after?: ReadonlySet<string>;
}

const PERSON = new Set([
  'customer',
  'client',
  'contact',
  'person',
  'patient',
  'employee',
  'member',
  'holder',
  'cardholder',
  'owner',
  'recipient',
  'sender',
  'buyer',
  'guardian',
  'applicant',
  'student',
  'user',
  'billing',
  'shipping',
]);
const PLACE = new Set([
  'home',
  'street',
  'postal',
  'mailing',
  'billing',
  'shipping',
  'delivery',
  'residential',
  'physical',
  'customer',
  'contact',
  'full',
  'user',
  'patient',
  'employee',
  'primary',
]);

const w = (s: string): string[] => s.split(' ');

const NAME_RULES: NameRule[] = [
  { kind: 'email', patterns: ['email', 'e mail', 'mail address', 'email address'].map(w) },
  {
    kind: 'phone',
    patterns: ['phone', 'telephone', 'tel', 'mobile', 'cellphone', 'cell phone', 'fax', 'msisdn'].map(w),
  },
  {
    kind: 'name',
    patterns: [
      'first name',
      'last name',
      'full name',
      'given name',
      'family name',
      'middle name',
      'maiden name',
      'surname',
      'forename',
      'user name',
      'nick name',
      'display name',
    ].map(w),
  },
  { kind: 'name', patterns: [['name']], after: PERSON },
  { kind: 'address', patterns: ['street', 'street address', 'address line'].map(w) },
  { kind: 'address', patterns: [['address'], ['addr']], after: PLACE },
  {
    kind: 'national_id',
    patterns: [
      'ssn',
      'social security',
      'social security number',
      'national id',
      'national insurance',
      'nino',
      'tax id',
      'taxpayer id',
    ].map(w),
  },
  {
    kind: 'passport',
    patterns: ['passport', 'driver license', 'drivers license', 'driving licence', 'driving license'].map(w),
  },
  { kind: 'bank_account', patterns: ['iban', 'bank account'].map(w) },
  {
    kind: 'credit_card',
    patterns: ['credit card', 'card number', 'cc number', 'ccn', 'cc num', 'cvv', 'cvc'].map(w),
  },
  { kind: 'ip_address', patterns: ['ip', 'ip address', 'ipv 4', 'ipv 6', 'ip addr', 'remote addr'].map(w) },
  {
    kind: 'date_of_birth',
    patterns: ['dob', 'date of birth', 'birth date', 'birthdate', 'birthday'].map(w),
  },
];

/**
 * Words that may follow a match without changing what the column holds (`phone_number`, `email_2`,
 * `address_line_1`). Any other following word means the column is about the thing, not the thing
 * itself: `email_verified`, `email_domain`, `phone_type`, `mobile_app_version` are not flagged.
 */
const TAIL_OK = new Set([
  'number',
  'no',
  'nr',
  'num',
  'address',
  'addr',
  'line',
  'id',
  'value',
  'raw',
  'primary',
  'secondary',
  'home',
  'work',
  'personal',
  'private',
  'main',
  'alt',
  'alternate',
  'other',
  'full',
]);
/** Words before a match that make it a count or a flag (`is_mobile`, `has_email`, `num_phones`). */
const HEAD_DENY = new Set(['is', 'has', 'num', 'n', 'count', 'cnt', 'total', 'number', 'no', 'valid']);

function matchAt(words: string[], start: number, pattern: string): number {
  // Returns the end (exclusive) of a run of words starting at `start` whose concatenation is `pattern`.
  let acc = '';
  for (let j = start; j < words.length; j++) {
    acc += words[j];
    if (acc === pattern) return j + 1;
    if (!pattern.startsWith(acc)) return -1;
  }
  return -1;
}

/** The kinds of identifying data a column's name announces, e.g. `customer_email` → `['email']`. */
export function identifyingByName(column: string): IdentifyingKind[] {
  const words = nameWords(column);
  const found = new Set<IdentifyingKind>();
  for (const rule of NAME_RULES) {
    for (const pattern of rule.patterns) {
      const joined = pattern.join('');
      for (let i = 0; i < words.length; i++) {
        const end = matchAt(words, i, joined);
        if (end < 0) continue;
        if (rule.after && i > 0 && !rule.after.has(words[i - 1])) continue;
        if (words.slice(0, i).some((x) => HEAD_DENY.has(x))) continue;
        if (!words.slice(end).every((x) => TAIL_OK.has(x) || /^\d+$/.test(x))) continue;
        found.add(rule.kind);
      }
    }
  }
  // `ip_address` and `email_address` are an IP and an email, not a postal address.
  if (found.has('address') && (found.has('ip_address') || found.has('email'))) found.delete('address');
  return [...found];
}

// ---------------------------------------------------------------------------------------------------
// By content

const EMAIL_SRC =
  "(?<![A-Za-z0-9._%+'-])[A-Za-z0-9_%+'-]+(?:\\.[A-Za-z0-9_%+'-]+)*@(?:[A-Za-z0-9-]+\\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])";
const EMAIL_FULL = new RegExp(`^${EMAIL_SRC}$`);

/** An e-mail address: local part, `@`, a dotted domain ending in a 2–24 letter top-level domain. */
export function isEmail(s: string): boolean {
  return s.length <= 320 && EMAIL_FULL.test(s.trim());
}

/** The Luhn checksum of a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

const CARD_SRC = '(?<![\\w.+-])\\d(?:[ -]?\\d){12,18}(?![\\w])';
const CARD_FULL = /^\d(?:[ -]?\d){12,18}$/;

function cardDigitsOk(candidate: string): boolean {
  const digits = candidate.replace(/[ -]/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  // Issuer ranges in use: 2 (Mastercard 2-series), 3 (Amex, Diners, JCB), 4 (Visa), 5 (Mastercard), 6 (Discover, UnionPay…).
  const first = digits.charCodeAt(0) - 48;
  if (first < 2 || first > 6) return false;
  if (/^(\d)\1+$/.test(digits)) return false;
  // Separators, when used, are all spaces or all dashes, between groups of 3–6 digits (4-4-4-4, 4-6-5).
  if (candidate.includes(' ') && candidate.includes('-')) return false;
  const groups = candidate.split(/[ -]/);
  if (groups.length > 1 && groups.some((g) => g.length < 3 || g.length > 6)) return false;
  return luhnValid(digits);
}

/** A payment card number: 13–19 digits (spaces or dashes allowed), a known issuer digit, Luhn-valid. */
export function isCardNumber(s: string): boolean {
  const t = s.trim();
  return CARD_FULL.test(t) && cardDigitsOk(t);
}

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4_SRC = `(?<![\\w.])${OCTET}(?:\\.${OCTET}){3}(?![\\w])(?!\\.\\d)`;
const IPV4_FULL = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
// A candidate IPv6: hex groups and colons (and a trailing dotted IPv4); validated by isIpv6 below.
const IPV6_CANDIDATE_SRC =
  '(?<![\\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|[0-9.]{7,15})?(?![\\w:])';

export function isIpv4(s: string): boolean {
  return IPV4_FULL.test(s.trim());
}

export function isIpv6(s: string): boolean {
  let t = s.trim();
  if (t.length < 2 || t.length > 45 || !t.includes(':')) return false;
  let groupsNeeded = 8;
  const lastColon = t.lastIndexOf(':');
  const tail = t.slice(lastColon + 1);
  if (tail.includes('.')) {
    // An embedded IPv4 (::ffff:192.0.2.1) stands for two groups: check it, then count it as one group.
    if (!IPV4_FULL.test(tail)) return false;
    t = `${t.slice(0, lastColon + 1)}0`;
    groupsNeeded = 7;
  }
  const parts = t.split('::');
  if (parts.length > 2) return false;
  const hex = /^[0-9A-Fa-f]{1,4}$/;
  const groups = (p: string): string[] | null => {
    if (p === '') return [];
    const g = p.split(':');
    return g.every((x) => hex.test(x)) ? g : null;
  };
  if (parts.length === 1) {
    const g = groups(parts[0]);
    return g !== null && g.length === groupsNeeded;
  }
  const a = groups(parts[0]);
  const b = groups(parts[1]);
  return a !== null && b !== null && a.length + b.length < groupsNeeded;
}

export function isIpAddress(s: string): boolean {
  return isIpv4(s) || isIpv6(s);
}

// Dates and times that look like digit groups: 2024-01-31, 31.01.2024, 01/31/2024.
const DATE_LIKE = /^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})$/;
// E.164 (+4915112345678), or an optional country code, an optional area code in parentheses and digit
// groups separated by one space, dot or dash. Every group after the first starts with a separator, so a
// digit run can only be split one way and the match stays linear.
const PHONE_BODY =
  '(?:\\+\\d{7,15}|(?:\\+\\d{1,3}[ .-]?)?(?:\\(\\d{1,5}\\)[ .-]?)?\\d{1,5}(?:[ .-]\\d{1,5}){0,6})';
const PHONE_FULL = new RegExp(`^${PHONE_BODY}$`);
const PHONE_SRC = `(?<![\\w+.-])${PHONE_BODY}(?![\\w])`;

function phoneOk(candidate: string): boolean {
  const t = candidate.trim();
  if (!PHONE_FULL.test(t)) return false;
  const digits = t.replace(/\D/g, '').length;
  if (digits < 7 || digits > 15) return false;
  if (DATE_LIKE.test(t) || IPV4_FULL.test(t)) return false;
  if (t.startsWith('+') || t.includes('(')) return true;
  // Without a country code or an area code in parentheses, demand at least three groups
  // (555-123-4567, 020 7946 0958), so that plain numbers and decimals are not taken for phones.
  const groups = t.split(/[ .-]/);
  return groups.length >= 3 && groups[groups.length - 1].length >= 2;
}

/**
 * A phone number: `+` and a country code, or an area code in parentheses, or three or more digit
 * groups separated by spaces, dots or dashes; 7–15 digits in all. Bare digit strings are not phones
 * (they are far more often ids or amounts); a column named `phone` is flagged by its name anyway.
 */
export function isPhoneNumber(s: string): boolean {
  return s.length <= 32 && phoneOk(s);
}

/** The content kinds a single cell matches; tried in this order, the first match wins. */
export function detectCell(s: string): IdentifyingKind | undefined {
  const t = s.trim();
  if (t.length < 6 || t.length > 320) return undefined;
  if (t.includes('@')) return isEmail(t) ? 'email' : undefined;
  if (isIpAddress(t)) return 'ip_address';
  if (isCardNumber(t)) return 'credit_card';
  if (isPhoneNumber(t)) return 'phone';
  return undefined;
}

/**
 * Counts, over a sample of a column's non-missing cells, how many look like each kind of identifying
 * data. Schema inference feeds it a bounded sample and asks `flagged()` at the end.
 */
export class ContentDetector {
  private seen = 0;
  private readonly hits = new Map<IdentifyingKind, number>();

  constructor(private readonly threshold = 0.3) {}

  observe(text: string): void {
    this.seen++;
    const kind = detectCell(text);
    if (kind) this.hits.set(kind, (this.hits.get(kind) ?? 0) + 1);
  }

  get sampled(): number {
    return this.seen;
  }

  /** The kinds that matched at least `threshold` of the sampled cells. */
  flagged(): IdentifyingKind[] {
    if (this.seen === 0) return [];
    const out: IdentifyingKind[] = [];
    for (const [kind, n] of this.hits) if (n / this.seen >= this.threshold) out.push(kind);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------
// Inside free text

const URL_RE = /(?<![\w@.])(?:https?:\/\/|www\.)[^\s<>"'`]+/gi;
const EMAIL_RE = new RegExp(EMAIL_SRC, 'g');
const CARD_RE = new RegExp(CARD_SRC, 'g');
const IPV4_RE = new RegExp(IPV4_SRC, 'g');
const IPV6_RE = new RegExp(IPV6_CANDIDATE_SRC, 'g');
const PHONE_RE = new RegExp(PHONE_SRC, 'g');

/**
 * A phone candidate, or two phone numbers written one after the other with a space between (the
 * pattern joins them into one run of digit groups): split at the space that makes both halves phones.
 */
function scrubPhones(m: string): string {
  if (phoneOk(m)) return '<PHONE_NUMBER>';
  for (let i = m.indexOf(' '); i > 0; i = m.indexOf(' ', i + 1)) {
    const left = m.slice(0, i);
    const right = m.slice(i + 1);
    if (phoneOk(left) && phoneOk(right)) return '<PHONE_NUMBER> <PHONE_NUMBER>';
  }
  return m;
}

/** Punctuation that ends a sentence rather than a URL. */
const URL_TRAILING = /[.,;:!?)\]}]+$/;

/**
 * Replaces e-mail addresses, URLs, IP addresses, payment card numbers and phone numbers inside free
 * text by type tokens (`<EMAIL_ADDRESS>`, `<URL>`, `<IP_ADDRESS>`, `<CREDIT_CARD>`, `<PHONE_NUMBER>`),
 * the tokens Microsoft Presidio uses, so that text features keep their shape without the values.
 * URLs go first so that an address inside a link is one `<URL>`, and cards before phones since the
 * Luhn check tells them apart.
 */
export function scrubText(text: string): string {
  if (text.length === 0) return text;
  let out = text.replace(URL_RE, (m) => {
    const trail = URL_TRAILING.exec(m);
    return trail ? `<URL>${trail[0]}` : '<URL>';
  });
  if (out.includes('@')) out = out.replace(EMAIL_RE, '<EMAIL_ADDRESS>');
  if (!/\d/.test(out)) return out;
  out = out.replace(IPV4_RE, '<IP_ADDRESS>');
  if (out.includes(':'))
    out = out.replace(IPV6_RE, (m) => (/[0-9a-f]/i.test(m) && isIpv6(m) ? '<IP_ADDRESS>' : m));
  out = out.replace(CARD_RE, (m) => (cardDigitsOk(m) ? '<CREDIT_CARD>' : m));
  out = out.replace(PHONE_RE, scrubPhones);
  return out;
}
