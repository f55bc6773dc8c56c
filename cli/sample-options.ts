/**
 * The options cli/sample/ was generated with (a test keeps the two in step). Regenerate with
 * `npm run generate -- --out cli/sample --songs 300 --events 6000 --seed 42 --bad 4`.
 */
export const SAMPLE_OPTIONS = { songs: 300, events: 6000, seed: 42, badRecords: 4 } as const;
