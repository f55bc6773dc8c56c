/**
 * Small datasets for the incremental tests: generated data regrouped into a few files per source, so that loading
 * it file by file, in several orders, stays a handful of runs. Records keep their text; duplicates and conflicting
 * records land in different files, so precedence between files is exercised.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate, mulberry32 } from '../../cli/generate.ts';
import type { ObjectStore } from '../../shared/store.ts';

/** Source key → file text. */
export type Dataset = Map<string, string>;

/** Generates data and regroups it: song records round-robin into `songFiles` files, log days into `logFiles` files. */
export async function regroupedDataset(
  dir: string,
  options: { songs: number; events: number; seed: number; bad: number; songFiles: number; logFiles: number },
): Promise<Dataset> {
  await generate({
    out: dir,
    songs: options.songs,
    events: options.events,
    seed: options.seed,
    badRecords: options.bad,
  });
  const files = readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => /^(song|log)_data\/.*\.json$/.test(f))
    .sort();
  const songs: string[][] = Array.from({ length: options.songFiles }, () => []);
  const logs: string[][] = Array.from({ length: options.logFiles }, () => []);
  const logFiles = files.filter((f) => f.startsWith('log_data/'));
  let n = 0;
  for (const f of files.filter((f) => f.startsWith('song_data/'))) {
    for (const line of recordLines(readFileSync(join(dir, f), 'utf8'))) songs[n++ % options.songFiles]?.push(line);
  }
  for (const [i, f] of logFiles.entries()) {
    const lines = readFileSync(join(dir, f), 'utf8').split('\n');
    logs[Math.floor((i * options.logFiles) / logFiles.length)]?.push(...lines.filter((l) => l.trim() !== ''));
  }
  const out: Dataset = new Map();
  for (const [i, lines] of songs.entries())
    out.set(`song_data/R/G/${String.fromCharCode(65 + i)}/TRGROUP${i}.json`, lines.join('\n'));
  for (const [i, lines] of logs.entries()) out.set(`log_data/2018/11/part-${i}-events.json`, lines.join('\n'));
  return out;
}

/** A song file's records as single lines (a whole document is re-serialized; anything else is split on LF). */
function recordLines(text: string): string[] {
  try {
    const value = JSON.parse(text) as unknown;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return [JSON.stringify(value)];
  } catch {
    // JSON lines, or a bad record: kept line by line
  }
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** Writes files of a dataset into a store. */
export async function putFiles(store: ObjectStore, dataset: Dataset, keys: readonly string[]): Promise<void> {
  for (const key of keys) await store.put(key, dataset.get(key) ?? '');
}

/** A seeded shuffle, for a reproducible "random" order. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const random = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
