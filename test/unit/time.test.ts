// Unit tests of shared/time.ts: the time table's breakdown of a timestamp, in UTC, with the ISO-8601 week and
// weekday (docs/contract.md, "time"). The brute-force check compares with an independent ISO-week computation.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hourOf, monthCalendar, type TimeParts, timeColumns, timeParts } from '../../shared/time.ts';
import { mulberry32 } from '../support/chunks.ts';

const DAY_MS = 86_400_000;

/** Epoch ms of a UTC calendar day, valid for every year (no 0–99 → 19xx mapping). */
function utcDay(year: number, month: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return d.getTime();
}

/** ISO weekday from the day number: 1970-01-01 was a Thursday (4). */
const isoWeekday = (dayNumber: number): number => ((((dayNumber + 3) % 7) + 7) % 7) + 1;

/** Day number of the Monday that starts ISO week 1 of `year`: the Monday of the week holding 4 January. */
function firstMonday(year: number): number {
  const jan4 = Math.floor(utcDay(year, 1, 4) / DAY_MS);
  return jan4 - (isoWeekday(jan4) - 1);
}

/**
 * Independent reference: the ISO week is counted from the ISO year's first Monday; the ISO year is the calendar
 * year, or its neighbour when the day falls before this year's first Monday or on/after next year's.
 */
function referenceParts(ms: number): TimeParts {
  const dayNumber = Math.floor(ms / DAY_MS);
  const iso = new Date(ms).toISOString(); // "YYYY-MM-DDTHH:mm:ss.sssZ" for years 0–9999
  const year = Number(iso.slice(0, 4));
  let isoYear = year;
  if (dayNumber < firstMonday(year)) isoYear = year - 1;
  else if (dayNumber >= firstMonday(year + 1)) isoYear = year + 1;
  return {
    start_time: ms,
    hour: Number(iso.slice(11, 13)),
    day: Number(iso.slice(8, 10)),
    week: Math.floor((dayNumber - firstMonday(isoYear)) / 7) + 1,
    month: Number(iso.slice(5, 7)),
    year,
    weekday: isoWeekday(dayNumber),
  };
}

describe('referenceParts (the test oracle) agrees with published ISO weeks', () => {
  test('known ISO weeks', () => {
    assert.equal(referenceParts(utcDay(2018, 12, 31)).week, 1); // 2019-W01-1
    assert.equal(referenceParts(utcDay(2021, 1, 3)).week, 53); // 2020-W53-7
    assert.equal(referenceParts(utcDay(2015, 12, 31)).week, 53); // 2015-W53-4
    assert.equal(referenceParts(utcDay(2010, 1, 3)).week, 53); // 2009-W53-7
    assert.equal(referenceParts(utcDay(2008, 12, 29)).week, 1); // 2009-W01-1
  });
});

describe('timeParts', () => {
  test('a dataset timestamp: 2018-11-01T21:01:46.796Z', () => {
    // Act
    const parts = timeParts(1541106106796);

    // Assess
    assert.deepEqual(parts, {
      start_time: 1541106106796,
      hour: 21,
      day: 1,
      week: 44,
      month: 11,
      year: 2018,
      weekday: 4,
    });
  });

  test('2018-12-31 (a Monday) is ISO week 1, while year stays the calendar year 2018', () => {
    const ms = Date.UTC(2018, 11, 31, 12, 0, 0);
    assert.deepEqual(timeParts(ms), { start_time: ms, hour: 12, day: 31, week: 1, month: 12, year: 2018, weekday: 1 });
  });

  test('2021-01-03 (a Sunday) is ISO week 53 of 2020, weekday 7', () => {
    const ms = Date.UTC(2021, 0, 3, 23, 59, 59, 999);
    assert.deepEqual(timeParts(ms), { start_time: ms, hour: 23, day: 3, week: 53, month: 1, year: 2021, weekday: 7 });
  });

  test('2020-12-31 (a Thursday) is ISO week 53', () => {
    const ms = Date.UTC(2020, 11, 31, 0, 0, 0);
    assert.deepEqual(timeParts(ms), { start_time: ms, hour: 0, day: 31, week: 53, month: 12, year: 2020, weekday: 4 });
  });

  test('a Sunday is weekday 7 and ends its week; the Monday after starts the next', () => {
    // Prepare: Sunday 2018-11-04, last millisecond, and the Monday after
    const sunday = Date.UTC(2018, 10, 4, 23, 59, 59, 999);

    // Act
    const sun = timeParts(sunday);
    const mon = timeParts(sunday + 1);

    // Assess
    assert.deepEqual(sun, { start_time: sunday, hour: 23, day: 4, week: 44, month: 11, year: 2018, weekday: 7 });
    assert.deepEqual(mon, { start_time: sunday + 1, hour: 0, day: 5, week: 45, month: 11, year: 2018, weekday: 1 });
  });

  test('every weekday of one week, Monday 1 … Sunday 7', () => {
    const monday = Date.UTC(2018, 10, 26, 6); // 2018-11-26
    const weekdays = [0, 1, 2, 3, 4, 5, 6].map((i) => timeParts(monday + i * DAY_MS).weekday);
    const weeks = [0, 1, 2, 3, 4, 5, 6].map((i) => timeParts(monday + i * DAY_MS).week);
    assert.deepEqual(weekdays, [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(weeks, [48, 48, 48, 48, 48, 48, 48]);
  });

  test('is UTC: the hour does not follow the machine time zone', () => {
    // 1970-01-01T00:00:00Z and one millisecond before it
    assert.deepEqual(timeParts(0), { start_time: 0, hour: 0, day: 1, week: 1, month: 1, year: 1970, weekday: 4 });
    assert.deepEqual(timeParts(-1), {
      start_time: -1,
      hour: 23,
      day: 31,
      week: 1, // 1969-12-31 is a Wednesday in 1970-W01
      month: 12,
      year: 1969,
      weekday: 3,
    });
  });

  test('matches the reference for 2,000 seeded-random timestamps between 1970 and 2100', () => {
    // Prepare
    const random = mulberry32(20181101);
    const from = Date.UTC(1970, 0, 1);
    const to = Date.UTC(2100, 0, 1);
    const stamps = Array.from({ length: 2000 }, () => from + Math.floor(random() * (to - from)));

    // Act
    const mismatches = stamps
      .map((ms) => ({ ms, got: timeParts(ms), want: referenceParts(ms) }))
      .filter(({ got, want }) => JSON.stringify(got) !== JSON.stringify(want));

    // Assess
    assert.equal(new Set(stamps).size, 2000);
    assert.deepEqual(mismatches, []);
  });

  test('matches the reference on every day around every new year from 1970 to 2100', () => {
    // Prepare: 28 December … 7 January, at a random hour, for each year boundary
    const random = mulberry32(7);
    const stamps: number[] = [];
    for (let year = 1970; year <= 2100; year++) {
      for (let d = -4; d <= 6; d++) stamps.push(utcDay(year, 1, 1) + d * DAY_MS + Math.floor(random() * DAY_MS));
    }

    // Act
    const mismatches = stamps
      .map((ms) => ({ at: new Date(ms).toISOString(), got: timeParts(ms), want: referenceParts(ms) }))
      .filter(({ got, want }) => JSON.stringify(got) !== JSON.stringify(want));

    // Assess
    assert.equal(stamps.length, 131 * 11);
    assert.deepEqual(mismatches, []);
  });

  // Fails today: timeParts computes the ISO year's start with Date.UTC(thursday.getUTCFullYear(), 0, 1), and
  // Date.UTC maps years 0–99 to 1900–1999. 0100-01-01 is a Friday whose Thursday lies in year 99, so the week
  // comes out as -99085. The ts (-59011459200000) is inside the JS date range, so checkLogEvent accepts it, and the
  // contract says week is the ISO-8601 week number.
  test('years before 100 keep ISO weeks: 0100-01-01 is week 53 of year 99', () => {
    // Prepare
    const ms = utcDay(100, 1, 1);
    assert.equal(ms, -59011459200000);

    // Act
    const parts = timeParts(ms);

    // Assess
    assert.deepEqual(parts, referenceParts(ms));
    assert.deepEqual(parts, { start_time: ms, hour: 0, day: 1, week: 53, month: 1, year: 100, weekday: 5 });
  });
});

describe('monthCalendar', () => {
  test("gives each timestamp its UTC year and month, in order, out of order and on every month's edges", () => {
    // Prepare: each month's first and last millisecond from 0099 to 2101, in order, then seeded-random stamps
    const stamps: number[] = [];
    for (let year = 99; year <= 2101; year++) {
      for (let month = 0; month < 12; month++) {
        const first = new Date(0).setUTCFullYear(year, month, 1);
        stamps.push(first, first + 1, new Date(0).setUTCFullYear(year, month + 1, 1) - 1);
      }
    }
    const random = mulberry32(11);
    for (let i = 0; i < 5000; i++) stamps.push(Math.floor((random() - 0.3) * 5e12));
    const calendar = monthCalendar();

    // Act
    const mismatches = stamps.filter((ms) => {
      const d = new Date(ms);
      const got = calendar(ms);
      return got.year !== d.getUTCFullYear() || got.month !== d.getUTCMonth() + 1;
    });

    // Assess
    assert.equal(stamps.length, 2003 * 36 + 5000);
    assert.deepEqual(mismatches, []);
  });
});

describe('hourOf', () => {
  test('gives getUTCHours of every hour edge of two days either side of 1970, and of seeded stamps over ±270,000 years', () => {
    // Prepare
    const stamps: number[] = [];
    for (let h = -48; h <= 48; h++) stamps.push(h * 3_600_000 - 1, h * 3_600_000, h * 3_600_000 + 1);
    const random = mulberry32(24);
    for (let i = 0; i < 20000; i++) stamps.push(Math.floor((random() * 2 - 1) * 8.64e15));

    // Act
    const mismatches = stamps.filter((ms) => hourOf(ms) !== new Date(ms).getUTCHours());

    // Assess
    assert.equal(stamps.length, 97 * 3 + 20000);
    assert.deepEqual(mismatches, []);
  });
});

describe('timeColumns', () => {
  test("gives each timestamp timeParts' breakdown, in order and out of order, on days' and years' edges", () => {
    // Prepare: every hour's first and last millisecond around new years and leap days, then seeded-random stamps
    // (before 1970 too), sorted as the reducers give them, then the same unsorted
    const stamps: number[] = [];
    for (const year of [99, 100, 1969, 1970, 2016, 2018, 2020, 2021, 2100]) {
      for (const start of [utcDay(year, 1, 1) - DAY_MS, utcDay(year, 1, 1), utcDay(year, 2, 29), utcDay(year, 3, 1)]) {
        for (let h = 0; h < 24; h++) stamps.push(start + h * 3_600_000, start + (h + 1) * 3_600_000 - 1);
      }
    }
    const random = mulberry32(29);
    for (let i = 0; i < 20_000; i++) stamps.push(Math.floor((random() - 0.3) * 5e12));
    const sorted = [...new Set(stamps)].sort((a, b) => a - b);
    const unsorted = sorted
      .map((ms) => ({ ms, k: random() }))
      .sort((a, b) => a.k - b.k)
      .map(({ ms }) => ms);

    for (const input of [sorted, unsorted]) {
      // Act
      const columns = timeColumns(input);

      // Assess
      const mismatches = input.filter((ms, i) => {
        const got = Object.fromEntries(Object.entries(columns).map(([name, values]) => [name, values[i]]));
        return JSON.stringify(got) !== JSON.stringify(timeParts(ms));
      });
      assert.equal(columns.hour.length, input.length);
      assert.deepEqual(mismatches, []);
    }
    assert.ok(sorted.length > 20_000, `${sorted.length} stamps`);
  });
});
