/**
 * The worker threads' code as plain JavaScript: the handler modules (and the thread's own loop) built with esbuild
 * in one build, so that a thread loads a few files with no TypeScript loader, instead of each source file through
 * the loader's hooks thread (a thread's start 550 → 230 ms, measured with two threads).
 *
 * The build goes under node_modules/.cache, so that the handlers' packages (left out of the build) resolve from it
 * as from the sources. Its folder is named by its content: runs and concurrent processes share an unchanged build,
 * and a changed source gets a folder of its own.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Where builds go by default. */
export const BUILD_CACHE = new URL('../node_modules/.cache/sparkify-lake/handlers/', import.meta.url);

/**
 * Builds the modules into `cache` and returns each module's href → its built file. Left out, and loaded by the
 * threads as they are: modules that are not TypeScript files, and modules with a query or fragment (a module that
 * reads its own URL would read the build's). When the build or its write fails, the map is empty: the threads then
 * load the sources through the TypeScript loader, as before, only slower.
 */
export function bundleHandlers(modules: readonly URL[], cache: URL = BUILD_CACHE): Promise<Map<string, URL>> {
  const sources = [...new Set(modules.map((m) => m.href))].filter((href) => /^file:[^?#]*\.ts$/.test(href));
  // Once per process and module list: this process has loaded its modules once too, so a source edited since would
  // not be seen by its own code either (the test suite runs a hundred runs in a few processes).
  const memo = JSON.stringify([cache.href, sources]);
  let built = builds.get(memo);
  if (!built) {
    built = build(sources, cache);
    builds.set(memo, built);
  }
  return built;
}

const builds = new Map<string, Promise<Map<string, URL>>>();

async function build(sources: readonly string[], cache: URL): Promise<Map<string, URL>> {
  if (sources.length === 0) return new Map();
  const root = fileURLToPath(cache);
  try {
    const esbuild = await import('esbuild');
    // Built for a sibling folder of the final one, so the source maps' relative paths hold there too.
    const staging = join(root, 'build');
    const result = await esbuild.build({
      entryPoints: sources.map((href, i) => ({
        in: fileURLToPath(href),
        out: `${i}-${basename(href, '.ts')}`,
      })),
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      sourcemap: 'linked',
      outdir: staging,
      write: false,
      logLevel: 'silent',
    });
    const files = result.outputFiles
      .map((f) => ({ name: relative(staging, f.path), contents: f.contents }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const hash = createHash('sha256');
    for (const f of files) hash.update(f.name).update('\u0000').update(f.contents);
    const folder = join(root, hash.digest('hex').slice(0, 16));
    if (!existsSync(folder)) {
      // Written aside and renamed into place: a reader never sees half a build, and a concurrent writer's finished
      // build is as good as this one.
      const aside = `${folder}.${process.pid}-${randomBytes(4).toString('hex')}`;
      for (const f of files) {
        await mkdir(dirname(join(aside, f.name)), { recursive: true });
        await writeFile(join(aside, f.name), f.contents);
      }
      await rename(aside, folder).catch(async (error: NodeJS.ErrnoException) => {
        await rm(aside, { recursive: true, force: true });
        if (!existsSync(folder)) throw error;
      });
    }
    return new Map(sources.map((href, i) => [href, pathToFileURL(join(folder, `${i}-${basename(href, '.ts')}.js`))]));
  } catch {
    return new Map();
  }
}
