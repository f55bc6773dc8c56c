/**
 * The analytics team's named queries, in SQL that DuckDB (`npm run query`) and Athena (saved in the stack) both
 * run: one view or table per star-schema table, hours and weekdays from the time table (UTC by contract).
 */

/** A named query. */
export interface NamedQuery {
  name: string;
  description: string;
  sql: string;
}

/** Every named query, in the order `--list` shows them. */
export const NAMED_QUERIES: readonly NamedQuery[] = [
  {
    name: 'top-songs',
    description: 'Top 10 songs by matched plays, with title and artist',
    sql: `SELECT s.song_id, s.title, a.name AS artist, count(*) AS plays
FROM songplays p JOIN songs s ON s.song_id = p.song_id LEFT JOIN artists a ON a.artist_id = s.artist_id
GROUP BY s.song_id, s.title, a.name
ORDER BY plays DESC, s.song_id
LIMIT 10`,
  },
  {
    name: 'top-artists',
    description: 'Top 10 artists by matched plays',
    sql: `SELECT a.artist_id, a.name AS artist, count(*) AS plays
FROM songplays p JOIN artists a ON a.artist_id = p.artist_id
GROUP BY a.artist_id, a.name
ORDER BY plays DESC, a.artist_id
LIMIT 10`,
  },
  {
    name: 'plays-by-hour',
    description: 'Plays per hour of day (UTC)',
    sql: `SELECT t.hour, count(*) AS plays
FROM songplays p JOIN time t ON t.start_time = p.start_time
GROUP BY t.hour
ORDER BY t.hour`,
  },
  {
    name: 'top-locations',
    description: 'Top 10 locations by plays',
    sql: `SELECT location, count(*) AS plays
FROM songplays
WHERE location IS NOT NULL
GROUP BY location
ORDER BY plays DESC, location
LIMIT 10`,
  },
  {
    name: 'top-user-agents',
    description: 'Top 10 user agents by plays',
    sql: `SELECT user_agent, count(*) AS plays
FROM songplays
WHERE user_agent IS NOT NULL
GROUP BY user_agent
ORDER BY plays DESC, user_agent
LIMIT 10`,
  },
  {
    name: 'free-vs-paid',
    description: 'Plays and distinct users by level (free, paid)',
    sql: `SELECT level, count(*) AS plays, count(DISTINCT user_id) AS users
FROM songplays
GROUP BY level
ORDER BY level`,
  },
  {
    name: 'busiest-weekdays',
    description: 'Plays per ISO weekday (1 = Monday), busiest first',
    sql: `SELECT t.weekday, count(*) AS plays
FROM songplays p JOIN time t ON t.start_time = p.start_time
GROUP BY t.weekday
ORDER BY plays DESC, t.weekday`,
  },
  {
    name: 'match-rate',
    description: 'Share of plays matched to a song',
    sql: `SELECT count(*) AS plays, count(song_id) AS matched, round(100.0 * count(song_id) / count(*), 2) AS matched_pct
FROM songplays`,
  },
];
