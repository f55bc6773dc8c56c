/** A bad command line: the command prints it with the usage and exits 2. Light, so every command can load it. */
export class UsageError extends Error {
  override name = 'UsageError';
}
