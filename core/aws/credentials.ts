/**
 * What every function bundle gets in place of `@aws-sdk/credential-provider-node` (an
 * esbuild alias, lib/bundling.ts): the credentials of the environment, which is where
 * Lambda puts the function role's (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
 * `AWS_SESSION_TOKEN`). The default chain's other sources (SSO, shared ini files, a
 * credential process, web identity, container and instance metadata) are never reached
 * in Lambda, yet made up a fifth of each bundle and half its initialisation. The local
 * runtime resolves the package to this module too (local/credentials.ts), so the
 * functions sign with the environment's credentials there as well.
 *
 * The clients import `defaultProvider` alone (their `runtimeConfig`), calling it with
 * their configuration.
 */
import { fromEnv, type FromEnvInit } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init?: FromEnvInit) => fromEnv(init);
