/**
 * How every function is bundled, in one place: the stack's `NodejsFunction`s
 * (lib/handler-function.ts) and the benchmark's cold-start suite (bench/suites/cold-start.ts)
 * both build from these settings, so what the benchmark measures is what is deployed.
 *
 * esbuild, ESM, minified, node24, the AWS SDK inside (a pinned, tree-shaken SDK loads faster
 * than the runtime's copy), with `@aws-sdk/credential-provider-node` aliased to
 * core/aws/credentials.ts: the environment's credentials, which is all Lambda provides, and
 * the SDK's event-stream module replaced by core/aws/no-event-streams.ts (`unusedSdkAlias`).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

/** The directory holding `package.json`, `functions/` and `core/`. */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * Packages replaced in every bundle: `relative` to the project root (esbuild resolves an
 * alias from its working directory, which is the project root for both builds; in Docker
 * the root is mounted elsewhere), `absolute` for this process (local/credentials.ts).
 */
export const credentialProviderAlias = {
  '@aws-sdk/credential-provider-node': { relative: './core/aws/credentials.ts', absolute: join(projectRoot, 'core', 'aws', 'credentials.ts') },
} as const;

/**
 * Parts of the AWS SDK no Cirrus function uses, replaced in every bundle (not in this process:
 * the local runtime and tests run the SDK as published). `@smithy/core/event-streams` (about
 * 20 KB minified) serves event-stream operations, which Cirrus never calls.
 */
export const unusedSdkAlias = {
  '@smithy/core/event-streams': './core/aws/no-event-streams.ts',
} as const;

/**
 * ESM bundles have no `require`; a few CommonJS dependencies bundled into them still call
 * it for Node built-ins, so the banner defines one.
 */
export const requireBanner =
  "import { createRequire as cirrusCreateRequire } from 'node:module'; const require = cirrusCreateRequire(import.meta.url);";

/** The settings both builds share. */
export const bundleSettings = {
  format: 'esm',
  platform: 'node',
  target: 'node24',
  minify: true,
  mainFields: ['module', 'main'],
  banner: requireBanner,
  alias: { ...Object.fromEntries(Object.entries(credentialProviderAlias).map(([pkg, to]) => [pkg, to.relative])), ...unusedSdkAlias } as Record<string, string>,
} as const;

/**
 * `process.env.<NAME>` replaced by the value (compiled settings), and `process.env.CIRRUS_TRACING`
 * by whether X-Ray tracing is on: off, the code that loads the Tracer is removed from the bundle
 * (core/runtime/observe.ts).
 */
export function defineSettings(settings: Readonly<Record<string, string>>, options: BundleOptions = {}): Record<string, string> {
  return {
    ...Object.fromEntries(Object.entries(settings).map(([name, value]) => [`process.env.${name}`, JSON.stringify(value)])),
    'process.env.CIRRUS_TRACING': JSON.stringify(options.tracing ? 'true' : 'false'),
    ...(options.serviceName ? { 'process.env.POWERTOOLS_SERVICE_NAME': JSON.stringify(options.serviceName) } : {}),
  };
}

/** What a deployment compiles into every bundle: X-Ray tracing on or off, the logs' and metrics' `service`. */
export interface BundleOptions {
  readonly tracing?: boolean;
  readonly serviceName?: string;
}

/** The esbuild options of a function's bundle, as the stack builds it (the benchmark adds its metafile). */
export function esbuildOptions(entry: string, outfile: string, compiledSettings: Readonly<Record<string, string>> = {}, options: BundleOptions = {}): BuildOptions {
  return {
    entryPoints: [join(projectRoot, 'functions', `${entry}.ts`)],
    absWorkingDir: projectRoot,
    outfile,
    bundle: true,
    format: bundleSettings.format,
    platform: bundleSettings.platform,
    target: bundleSettings.target,
    minify: bundleSettings.minify,
    mainFields: [...bundleSettings.mainFields],
    banner: { js: bundleSettings.banner },
    alias: bundleSettings.alias,
    define: defineSettings(compiledSettings, options),
  };
}
