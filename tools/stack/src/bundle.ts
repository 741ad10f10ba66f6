import { dirname, join, relative, resolve, sep } from 'node:path';
import { copyFile, readFile } from 'node:fs/promises';
import { build, type Plugin } from 'esbuild';
import { STAGE_SERVICES, WORKSPACE_ROOT, type StageServiceName } from '@grantstream/harness';

/** Where `npm run build:bundles` writes `<service>/main.js`, relative to the workspace root. */
export const BUNDLE_DIR = 'dist/bundles';

/** Options of {@link bundleService}. */
export interface BundleOptions {
  /** Workspace root holding services/, libs/ and tsconfig.base.json. */
  root?: string;
  /** Folder receiving `<service>/main.js`; defaults to `<root>/dist/bundles`. */
  outRoot?: string;
}

/**
 * Files a bundled package reads from beside the bundle at run time, which
 * esbuild cannot inline: SQLite in WebAssembly (the console's read model)
 * loads its .wasm from the directory of the script that requires it. Copied
 * next to main.js whenever the bundle includes the package.
 */
export const RUNTIME_ASSETS: readonly { package: string; file: string }[] = [
  { package: 'node-sqlite3-wasm', file: 'dist/node-sqlite3-wasm.wasm' },
];

/** What one service's bundle needs at run time besides itself. */
export interface BundleResult {
  service: StageServiceName;
  /** The bundle's entry file. */
  file: string;
  /**
   * Modules left out because they are not installed: NestJS's optional
   * transports and validators, which it requires only when asked for them.
   */
  absentOptional: string[];
  /** Run-time files copied beside main.js ({@link RUNTIME_ASSETS}). */
  assets: string[];
}

/**
 * Rewrites `__dirname` in a workspace source file so that it still names the
 * source's folder once the file is inlined into a bundle elsewhere: lib code
 * finds `config/grantstream.yaml` and `package.json` relative to its own
 * folder, and the bundle keeps the workspace layout around it (the image has
 * /app/config, /app/package.json and /app/dist/bundles/<service>/main.js).
 */
export function rewriteDirname(source: string, sourceDir: string, bundleDir: string): string {
  const fromBundle = relative(bundleDir, sourceDir).split(sep).join('/');
  return source.replace(
    /\b__dirname\b/g,
    `require('node:path').join(__dirname, ${JSON.stringify(fromBundle)})`,
  );
}

function workspaceDirname(root: string, bundleDir: string): Plugin {
  return {
    name: 'grantstream-workspace-dirname',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (args.path.includes(`${sep}node_modules${sep}`) || !args.path.startsWith(root))
          return undefined;
        const source = await readFile(args.path, 'utf8');
        if (!source.includes('__dirname')) return undefined;
        return {
          contents: rewriteDirname(source, dirname(args.path), bundleDir),
          loader: 'ts',
          resolveDir: dirname(args.path),
        };
      });
    },
  };
}

const SKIP = Symbol('resolving without this plugin');

/**
 * NestJS requires its optional peers (gRPC, MQTT, NATS, RabbitMQ, websockets,
 * class-validator ...) lazily, inside try/catch, only when an app uses them.
 * Those that are not installed stay out of the bundle instead of failing it;
 * everything installed is bundled as usual.
 */
function nestLazyOptionalPeers(absent: Set<string>): Plugin {
  return {
    name: 'grantstream-nest-optional-peers',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === SKIP || !/[\\/]node_modules[\\/]@nestjs[\\/]/.test(args.importer))
          return undefined;
        const found = await b.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: SKIP,
        });
        if (found.errors.length === 0) {
          return {
            path: found.path,
            external: found.external,
            namespace: found.namespace,
            sideEffects: found.sideEffects,
          };
        }
        absent.add(args.path);
        return { path: args.path, external: true };
      });
    },
  };
}

/**
 * Bundles one service's entry point with everything it imports (workspace
 * libs through the tsconfig path aliases, and its npm dependencies) into one
 * CommonJS file for Node 20 and later, with a source map: the images run Node
 * 24, this machine's tools Node 20, and test/integration/bundles-node24.test.ts
 * starts every bundle on both. The result runs with no node_modules beside
 * it. Decorators compile as experimentalDecorators;
 * esbuild emits no decorator metadata, which is why every injected
 * constructor parameter names its token with `@Inject`.
 */
export async function bundleService(
  service: StageServiceName,
  options: BundleOptions = {},
): Promise<BundleResult> {
  const root = resolve(options.root ?? WORKSPACE_ROOT);
  const bundleDir = join(resolve(options.outRoot ?? join(root, BUNDLE_DIR)), service);
  const file = join(bundleDir, 'main.js');
  const absent = new Set<string>();
  const { metafile } = await build({
    entryPoints: [join(root, STAGE_SERVICES[service])],
    outfile: file,
    tsconfig: join(root, dirname(dirname(STAGE_SERVICES[service])), 'tsconfig.json'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    // Nest and our own error classes are told apart by constructor names.
    keepNames: true,
    logLevel: 'error',
    plugins: [workspaceDirname(root, bundleDir), nestLazyOptionalPeers(absent)],
    metafile: true,
  });
  const inputs = Object.keys(metafile.inputs).map((input) => input.split(sep).join('/'));
  const assets: string[] = [];
  for (const asset of RUNTIME_ASSETS) {
    if (!inputs.some((input) => input.includes(`node_modules/${asset.package}/`))) continue;
    const target = join(bundleDir, asset.file.split('/').pop() ?? asset.file);
    await copyFile(join(root, 'node_modules', asset.package, asset.file), target);
    assets.push(target);
  }
  return { service, file, absentOptional: [...absent].sort(), assets };
}

function isStageService(name: string): name is StageServiceName {
  return Object.hasOwn(STAGE_SERVICES, name);
}

/**
 * `npm run build:bundles [-- [--out <dir>] service...]`: every service when
 * none is named, into `<dir>/<service>/main.js` (default dist/bundles).
 */
async function main(argv: readonly string[]): Promise<number> {
  const at = argv.indexOf('--out');
  const outRoot = at === -1 ? undefined : argv[at + 1];
  if (at !== -1 && (outRoot === undefined || outRoot.startsWith('-'))) {
    process.stderr.write('--out needs a folder: --out <dir>\n');
    return 2;
  }
  const args = at === -1 ? argv : [...argv.slice(0, at), ...argv.slice(at + 2)];
  const unknown = args.filter((a) => !isStageService(a));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown service(s): ${unknown.join(', ')}; expected ${Object.keys(STAGE_SERVICES).join(', ')}\n`,
    );
    return 2;
  }
  const names = args.length > 0 ? args.filter(isStageService) : Object.keys(STAGE_SERVICES);
  for (const name of names.filter(isStageService)) {
    const result = await bundleService(name, { outRoot });
    process.stdout.write(
      `${name}: ${relative(process.cwd(), result.file)}` +
        (result.absentOptional.length > 0
          ? ` (not installed, left out: ${result.absentOptional.join(', ')})\n`
          : '\n'),
    );
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`bundling failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
}
