// Five-field cron expressions in UTC (minute hour day-of-month month day-of-week) for scheduled
// retraining: parsing with readable errors, and the first matching minute after a time. Written here
// because no cron package is installed; it covers what crontab(5) does except names and `@` macros.

export interface CronSchedule {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  /** crontab(5): when both day fields are restricted, a day matches if either does. */
  daysRestricted: boolean;
  weekdaysRestricted: boolean;
}

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

function parseField(text: string, min: number, max: number, name: string): Set<number> | string {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|\d{1,2}(?:-\d{1,2})?)(?:\/(\d{1,2}))?$/.exec(part);
    if (!m) return `${name}: '${part}' is not a number, range, list or step`;
    let lo = min;
    let hi = max;
    if (m[1] !== '*') {
      const [a, b] = m[1].split('-').map(Number);
      lo = a;
      hi = b ?? (m[2] !== undefined ? max : a);
    }
    const step = m[2] !== undefined ? Number(m[2]) : 1;
    if (lo < min || hi > max || lo > hi) return `${name}: '${part}' is outside ${min}-${max}`;
    if (step < 1) return `${name}: the step must be at least 1`;
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

/** The schedule, or a message saying what is wrong with the expression. */
export function parseCron(expr: string): CronSchedule | string {
  if (typeof expr !== 'string') return 'must be a string';
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5)
    return `must have 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`;
  const sets: Set<number>[] = [];
  for (let i = 0; i < 5; i++) {
    const f = FIELDS[i];
    const s = parseField(parts[i], f.min, f.max, f.name);
    if (typeof s === 'string') return s;
    sets.push(s);
  }
  if (sets[4].has(7)) sets[4].add(0); // both 0 and 7 are Sunday
  return {
    minutes: sets[0],
    hours: sets[1],
    days: sets[2],
    months: sets[3],
    weekdays: sets[4],
    daysRestricted: parts[2] !== '*',
    weekdaysRestricted: parts[4] !== '*',
  };
}

function dayMatches(s: CronSchedule, d: Date): boolean {
  const dom = s.days.has(d.getUTCDate());
  const dow = s.weekdays.has(d.getUTCDay());
  if (s.daysRestricted && s.weekdaysRestricted) return dom || dow;
  return dom && dow;
}

/**
 * The first minute strictly after `after` that the schedule matches, or null if none comes before
 * `until`. Whole months, days and hours that cannot match are skipped, so a search over years is cheap.
 */
export function nextCronTime(s: CronSchedule, after: Date, until: Date): Date | null {
  const t = new Date(after.getTime());
  t.setUTCSeconds(0, 0);
  t.setUTCMinutes(t.getUTCMinutes() + 1);
  const end = until.getTime();
  while (t.getTime() <= end) {
    if (!s.months.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!dayMatches(s, t)) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!s.hours.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!s.minutes.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return t;
  }
  return null;
}
