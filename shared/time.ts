/** The time dimension's breakdown of a timestamp, always in UTC whatever the machine's time zone. */

/** One row of the time table. */
export interface TimeParts {
  start_time: number;
  hour: number;
  day: number;
  /** ISO-8601 week number (1–53). */
  week: number;
  month: number;
  year: number;
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  weekday: number;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** The UTC hour of an epoch-millisecond timestamp, as getUTCHours gives it without making a Date. */
export const hourOf = (ms: number): number => Math.floor((ms - Math.floor(ms / DAY_MS) * DAY_MS) / HOUR_MS);

/** Breaks an epoch-millisecond timestamp into the time table's columns. */
export function timeParts(ms: number): TimeParts {
  const d = new Date(ms);
  const weekday = d.getUTCDay() === 0 ? 7 : d.getUTCDay();
  // ISO week: the week that holds this week's Thursday, counted in Thursday's year.
  const dayStart = Math.floor(ms / DAY_MS) * DAY_MS;
  const thursday = new Date(dayStart + (4 - weekday) * DAY_MS);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
  const yearStart = new Date(0).setUTCFullYear(thursday.getUTCFullYear(), 0, 1);
  const week = Math.floor((thursday.getTime() - yearStart) / DAY_MS / 7) + 1;
  return {
    start_time: ms,
    hour: d.getUTCHours(),
    day: d.getUTCDate(),
    week,
    month: d.getUTCMonth() + 1,
    year: d.getUTCFullYear(),
    weekday,
  };
}

/** Year and month of a timestamp, kept for the month it falls in: timestamps in order ask for one month many times. */
export function monthCalendar(): (ms: number) => { year: number; month: number } {
  let from = 0;
  let to = 0;
  let current = { year: 0, month: 0 };
  return (ms) => {
    if (!(ms >= from && ms < to)) {
      const d = new Date(ms);
      current = { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1 };
      from = new Date(0).setUTCFullYear(current.year, current.month - 1, 1);
      to = new Date(0).setUTCFullYear(current.year, current.month, 1);
    }
    return current;
  };
}

/** The time table's columns for timestamps, each as a typed array in the timestamps' order. */
export type TimeColumns = { [C in keyof TimeParts]: C extends 'start_time' ? Float64Array : Int32Array };

/**
 * The time table's columns of many timestamps, as timeParts gives them: the calendar is worked out once per UTC day
 * (timestamps in order share their day with the previous one, mostly), and the hour from the time since midnight.
 */
export function timeColumns(ms: ArrayLike<number>): TimeColumns {
  const n = ms.length;
  const out: TimeColumns = {
    start_time: Float64Array.from(ms),
    hour: new Int32Array(n),
    day: new Int32Array(n),
    week: new Int32Array(n),
    month: new Int32Array(n),
    year: new Int32Array(n),
    weekday: new Int32Array(n),
  };
  let dayStart = Number.NaN;
  let day = timeParts(0);
  for (let i = 0; i < n; i++) {
    const t = ms[i] as number;
    const start = Math.floor(t / DAY_MS) * DAY_MS;
    if (start !== dayStart) {
      dayStart = start;
      day = timeParts(start);
    }
    out.hour[i] = Math.floor((t - start) / HOUR_MS);
    out.day[i] = day.day;
    out.week[i] = day.week;
    out.month[i] = day.month;
    out.year[i] = day.year;
    out.weekday[i] = day.weekday;
  }
  return out;
}
