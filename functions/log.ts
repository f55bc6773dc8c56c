/** Structured JSON logs, one line each, with the run id: what CloudWatch Logs Insights queries. */
export function log(level: 'info' | 'error', message: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, message, time: new Date().toISOString(), ...fields });
  if (level === 'error') console.error(line);
  else if (process.env.SPARKIFY_QUIET !== '1') console.log(line);
}
