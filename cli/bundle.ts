/**
 * Builds the Lambda bundles: each handler in functions/ with everything it imports (apache-arrow, parquet-wasm,
 * zod, @aws-sdk/client-s3) in one ESM file, `dist/<name>/index.mjs`, that runs with no node_modules. serverless.yml
 * packages each folder as its function's artifact (`handler: dist/<name>/index.handler`).
 *
 * parquet-wasm: the bundle inlines its Node build (the one `import 'parquet-wasm'` resolves to on Node), which
 * reads `${__dirname}/parquet_wasm_bg.wasm` when imported, so the wasm file is copied next to a bundle that
 * contains it. The banner gives the ESM bundle the `require`, `__filename` and `__dirname` that CommonJS code in it
 * expects; `__dirname` is the bundle's own folder.
 * @example npm run build
 */
import { copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';

/** The repository root. */
const REPO = fileURLToPath(new URL('..', import.meta.url));

/** The Lambda functions: one handler module each in functions/. */
export const FUNCTIONS = ['plan', 'map', 'reduce', 'commit', 'trigger'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

/** The wasm file parquet-wasm's Node build loads from its own folder (the bundle's folder once bundled). */
export const WASM_FILE = 'parquet_wasm_bg.wasm';

// Aliased imports so that the banner's names never meet the bundle's own.
const BANNER = [
  "import { createRequire as __bundleCreateRequire } from 'node:module';",
  "import { fileURLToPath as __bundleFileURLToPath } from 'node:url';",
  "import { dirname as __bundleDirname } from 'node:path';",
  'const require = __bundleCreateRequire(import.meta.url);',
  'const __filename = __bundleFileURLToPath(import.meta.url);',
  'const __dirname = __bundleDirname(__filename);',
].join('\n');

/**
 * parquet-wasm's Node build is CommonJS that loads and compiles its wasm when it runs, so esbuild keeps it wherever
 * it is imported, used or not (commit reaches shared/columnar.ts through shared/events.ts and shared/map.ts but writes
 * no Parquet). Its load only serves its exports: marked free of side effects, it is bundled only where they are used.
 */
const parquetWasmOnDemand: Plugin = {
  name: 'parquet-wasm-on-demand',
  setup(b) {
    b.onResolve({ filter: /^parquet-wasm$/ }, async (args) => {
      if (args.pluginData === parquetWasmOnDemand) return undefined;
      const { path, namespace, external, errors, warnings } = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: parquetWasmOnDemand,
      });
      return { path, namespace, external, errors, warnings, sideEffects: false };
    });
  },
};

/** What one build wrote. */
export interface Bundle {
  name: FunctionName;
  /** The bundle's folder. */
  dir: string;
  /** Each file in the folder and its size in bytes. */
  files: Record<string, number>;
  /** Whether parquet-wasm is in the bundle (and its wasm copied beside it). */
  wasm: boolean;
  /** Every module the bundle imports at run time: Node built-ins only. */
  imports: string[];
  /** esbuild's warnings, formatted. */
  warnings: string[];
}

/** Options of {@link buildBundles}. */
export interface BuildOptions {
  /** Where the `<name>/` folders go [dist/ in the repo]. */
  outdir?: string;
  /** Minify whitespace and syntax (identifiers and class names are kept) [false]. */
  minify?: boolean;
}

/** The input files of an output that put bytes into it (tree-shaken modules are left out). */
function bundledInputs(metafile: Metafile): string[] {
  return Object.values(metafile.outputs).flatMap((o) =>
    Object.entries(o.inputs)
      .filter(([, v]) => v.bytesInOutput > 0)
      .map(([path]) => path),
  );
}

/** Builds one function's bundle into `<outdir>/<name>/`, replacing what was there. */
async function buildOne(name: FunctionName, outdir: string, minify: boolean): Promise<Bundle> {
  const dir = join(outdir, name);
  await rm(dir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: REPO,
    entryPoints: [join(REPO, 'functions', `${name}.ts`)],
    outfile: join(dir, 'index.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    // ESM entry points of dependencies where they have one (the AWS SDK's dist-es), CommonJS otherwise.
    mainFields: ['module', 'main'],
    sourcemap: 'linked',
    sourcesContent: false,
    minifyWhitespace: minify,
    minifySyntax: minify,
    keepNames: true,
    legalComments: 'eof',
    banner: { js: BANNER },
    plugins: [parquetWasmOnDemand],
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = bundledInputs(result.metafile);
  // parquet-wasm must be its Node build: the ESM build would need an explicit initSync with the wasm bytes.
  const parquet = inputs.filter((p) => p.includes('node_modules/parquet-wasm/'));
  const wasmGlue = parquet.find((p) => p.endsWith('node_modules/parquet-wasm/node/parquet_wasm.js'));
  if (parquet.length > 0 && (parquet.length !== 1 || wasmGlue === undefined)) {
    throw new Error(`${name}: expected parquet-wasm's Node build alone in the bundle, got ${parquet.join(', ')}`);
  }
  if (wasmGlue !== undefined) {
    await copyFile(join(REPO, dirname(wasmGlue), WASM_FILE), join(dir, WASM_FILE));
  }
  const imports = [
    ...new Set(Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path))),
  ].sort();
  const foreign = imports.filter((i) => !isBuiltin(i));
  if (foreign.length > 0) throw new Error(`${name}: the bundle imports ${foreign.join(', ')} at run time`);
  const files: Record<string, number> = {};
  for (const file of (await readdir(dir)).sort()) files[file] = (await stat(join(dir, file))).size;
  const warnings = result.warnings.map(
    (w) => `${w.location ? `${w.location.file}:${w.location.line}: ` : ''}${w.text}`,
  );
  return { name, dir, files, wasm: wasmGlue !== undefined, imports, warnings };
}

/** Builds every function's bundle (in parallel); throws if any bundle would need a package at run time. */
export async function buildBundles(options: BuildOptions = {}): Promise<Bundle[]> {
  const outdir = resolve(options.outdir ?? join(REPO, 'dist'));
  await mkdir(outdir, { recursive: true });
  return Promise.all(FUNCTIONS.map((name) => buildOne(name, outdir, options.minify ?? false)));
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(2)} MiB`;

/** One line per bundle: its folder, the bundle's size, and the map and wasm beside it. */
export function describeBundles(bundles: readonly Bundle[]): string[] {
  return bundles.map((b) => {
    const inside = relative(process.cwd(), b.dir);
    const where = inside.startsWith('..') ? b.dir : inside;
    const extras = Object.entries(b.files)
      .filter(([f]) => f !== 'index.mjs')
      .map(([f, n]) => `${f} ${mib(n)}`);
    const total = Object.values(b.files).reduce((a, n) => a + n, 0);
    return `${where}/index.mjs ${mib(b.files['index.mjs'] ?? 0)} (+ ${extras.join(', ')}; folder ${mib(total)})`;
  });
}

async function main(): Promise<number> {
  const started = Date.now();
  const bundles = await buildBundles({ minify: process.argv.includes('--minify') });
  for (const b of bundles) for (const w of b.warnings) console.warn(`${b.name}: warning: ${w}`);
  for (const line of describeBundles(bundles)) console.log(line);
  console.log(`built ${bundles.length} bundles in ${Date.now() - started} ms`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main();
}
