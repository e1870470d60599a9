/**
 * Secret values from SSM Parameter Store (SecureString parameters, read with
 * `WithDecryption`), cached per container: a warm function sends no GetParameter on the
 * message path.
 *
 * A cached value is trusted for {@link SECRET_TTL_MS} (5 minutes), so a value put with
 * `PutParameter --overwrite` reaches every warm container within that. A caller that has reason to
 * think its value is stale (a token whose signature does not verify, an admin secret that
 * does not match) or that must not use a stale one (signing a new token, accepting the admin
 * secret) asks {@link recentSecretValue}: fetched again when older than
 * {@link REFRESH_INTERVAL_MS} (10 seconds), so a flood of bad tokens or guesses costs at most
 * one GetParameter per secret per 10 seconds per container.
 *
 * Read with core/aws/parameters.ts (GetParameter signed and sent with the SDK's signer and HTTP
 * handler), not `@aws-sdk/client-ssm`, which would put 76 KB in every bundle that reads a secret.
 */
import { containerName } from '../aws/container';
import { getParameter } from '../aws/parameters';

/** How long a fetched value is used without asking Parameter Store again. */
export const SECRET_TTL_MS = 5 * 60 * 1000;
/** The age past which `recentSecretValue` fetches again; the least time between two fetches it makes. */
export const REFRESH_INTERVAL_MS = 10 * 1000;

interface Entry {
  readonly value: Promise<string>;
  readonly fetchedAt: number;
}

/** Keyed per container: locally every function shares the process, each with its own grants. */
const cache = new Map<string, Entry>();
const cacheKey = (secretId: string) => `${containerName()}\n${secretId}`;

function fetchValue(secretId: string): Promise<string> {
  const key = cacheKey(secretId);
  const value = getParameter(secretId, true).then((parameter) => {
    if (!parameter.Value) throw new Error(`Parameter ${secretId} has no value`);
    return parameter.Value;
  });
  const entry: Entry = { value, fetchedAt: Date.now() };
  // A failed fetch is not cached, so the next call tries again.
  value.catch(() => {
    if (cache.get(key) === entry) cache.delete(key);
  });
  cache.set(key, entry);
  return value;
}

/** The value, fetched again when the cached one is `maxAgeMs` old (concurrent callers share one fetch). */
function valueNoOlderThan(secretId: string, maxAgeMs: number): Promise<string> {
  const entry = cache.get(cacheKey(secretId));
  if (entry && Date.now() - entry.fetchedAt < maxAgeMs) return entry.value;
  return fetchValue(secretId);
}

/** The secret's value, at most {@link SECRET_TTL_MS} old. */
export function secretValue(secretId: string): Promise<string> {
  return valueNoOlderThan(secretId, SECRET_TTL_MS);
}

/** The secret's value, at most {@link REFRESH_INTERVAL_MS} old; it replaces the cached one. */
export function recentSecretValue(secretId: string): Promise<string> {
  return valueNoOlderThan(secretId, REFRESH_INTERVAL_MS);
}
