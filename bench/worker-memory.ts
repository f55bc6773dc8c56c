/**
 * Peak memory of one map or reduce worker at 1× and 4× data, with the same shard size and the buckets scaled with
 * the data (so one bucket holds the same amount): bounded per worker means the peaks stay level.
 * Each invocation runs alone in a fresh process (bench/invoke.ts), the way a Lambda sandbox would run it.
 * Usage: npm run bench:memory [-- --songs 4000 --events 80000]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generate } from '../cli/generate.ts';
import { commitRun } from '../shared/commit.ts';
import { manifestKey } from '../shared/keys.ts';
import { type PlanResult, plan, type Shard } from '../shared/plan.ts';
import { openStore } from '../shared/store.ts';

const { values } = parseArgs({
  options: { songs: { type: 'string', default: '4000' }, events: { type: 'string', default: '80000' } },
});
const ROOT = decodeURIComponent(new URL('..', import.meta.url).pathname);
const work = mkdtempSync(join(tmpdir(), 'sparkify-bench-memory-'));

function invoke(name: string, event: unknown): { peakRssMB: number; loadedRssMB: number; ms: number } {
  const file = join(work, 'event.json');
  writeFileSync(file, JSON.stringify(event));
  const out = execFileSync(process.execPath, ['--import', './cli/preload.mjs', 'bench/invoke.ts', name, file], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop() as string);
}

const summary = (xs: number[]): string =>
  `max ${Math.max(...xs).toFixed(0)} MB, median ${[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]?.toFixed(0)} MB`;

interface Scale {
  label: string;
  songs: number;
  events: number;
  buckets: number;
}
const songs = Number(values.songs);
const events = Number(values.events);
const scales: Scale[] = [
  { label: '1×', songs, events, buckets: 4 },
  { label: '4×', songs: songs * 4, events: events * 4, buckets: 16 },
];
const rows: string[] = [];
try {
  for (const scale of scales) {
    const source = join(work, `source-${scale.buckets}`);
    const target = join(work, `lake-${scale.buckets}`);
    const generated = await generate({ out: source, songs: scale.songs, events: scale.events });
    const settings = { buckets: scale.buckets, shardFiles: 1000, shardBytes: 16 * 1024 * 1024 };
    const planned: PlanResult = await plan({ source, target, settings });
    const shards = JSON.parse(
      Buffer.from(await openStore(target).get(manifestKey(planned.run.runId))).toString('utf8'),
    ) as Shard[];
    const peaks: Record<string, number[]> = { map: [], dimensions: [], facts: [] };
    let loaded = 0;
    for (const shard of shards) {
      const m = invoke('map', { BatchInput: { run: planned.run }, Items: [shard] });
      peaks.map?.push(m.peakRssMB);
      loaded = m.loadedRssMB;
    }
    for (const phase of ['dimensions', 'facts'] as const) {
      for (const bucket of planned.buckets)
        peaks[phase]?.push(invoke('reduce', { run: planned.run, phase, bucket }).peakRssMB);
    }
    const report = await commitRun(planned.run);
    const mb = (generated.bytes / 1e6).toFixed(0);
    rows.push(
      `| ${scale.label} | ${mb} MB, ${report.sources.log_data.read} events | ${shards.length} × ≤1000 files/16 MB | ${scale.buckets} | ${summary(peaks.map ?? [])} | ${summary(peaks.dimensions ?? [])} | ${summary(peaks.facts ?? [])} | ${loaded.toFixed(0)} MB |`,
    );
    console.error(`${scale.label} done`);
  }
  console.log(
    '| data | input | map shards | buckets | map worker peak RSS | dimensions reducer peak | facts reducer peak | process after loading modules |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
} finally {
  rmSync(work, { recursive: true, force: true });
}
