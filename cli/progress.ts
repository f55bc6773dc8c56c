/** The progress line a terminal shows during a local run: invocations done of total, per stage. */
import type { PlanResult } from '../shared/plan.ts';
import type { Progress } from '../statemachine/local-runner.ts';

// Task states of statemachine/etl.asl.json and the stage each belongs to.
const STAGE_OF: Record<string, Stage> = {
  Plan: 'plan',
  MapShard: 'map',
  ReduceDimensionsBucket: 'dimensions',
  ReduceFactsBucket: 'facts',
  Commit: 'commit',
};
type Stage = 'plan' | 'map' | 'dimensions' | 'facts' | 'commit';

/** Counts what has finished, from the runner's progress events. */
export class ProgressTracker {
  private readonly done: Record<Stage, number> = { plan: 0, map: 0, dimensions: 0, facts: 0, commit: 0 };
  private mapTotal: number | undefined;
  private buckets: number | undefined;

  /** Takes one progress event. */
  update(p: Progress): void {
    if (p.kind === 'started') {
      if (p.state === 'MapShards') this.mapTotal = p.items;
      return;
    }
    const stage = STAGE_OF[p.state];
    if (!stage) return;
    this.done[stage]++;
    if (stage === 'plan') this.buckets = (p.result as PlanResult).buckets.length;
  }

  /** e.g. `map 3/10  dimensions 0/4  facts 0/4  commit 0/1` (`?` until the total is known). */
  line(): string {
    const part = (stage: Stage, total: number | undefined): string => `${stage} ${this.done[stage]}/${total ?? '?'}`;
    return [
      part('map', this.mapTotal),
      part('dimensions', this.buckets),
      part('facts', this.buckets),
      part('commit', 1),
    ].join('  ');
  }
}
