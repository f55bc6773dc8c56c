/** Structured JSON logs, one line each, with the run id: what CloudWatch Logs Insights queries. */
export function log(level: 'info' | 'error', message: string, fields: Record<string, unknown> = {}): void {
  // The local command sets SPARKIFY_QUIET: a person reads its summary or its one error line instead.
  if (process.env.SPARKIFY_QUIET === '1') return;
  const line = JSON.stringify({ level, message, time: new Date().toISOString(), ...fields });
  if (level === 'error') console.error(line);
  else console.log(line);
}
