/**
 * Secret values from Secrets Manager, fetched once per container: a warm function sends
 * no GetSecretValue on the message path.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { containerName } from '../aws/container';
import { secrets } from '../aws/secrets-manager';

const cache = new Map<string, Promise<string>>();

export function secretValue(secretId: string): Promise<string> {
  // Per container: locally every function shares the process, each with its own grants.
  const key = `${containerName()}\n${secretId}`;
  let value = cache.get(key);
  if (!value) {
    value = secrets()
      .send(new GetSecretValueCommand({ SecretId: secretId }))
      .then((out) => {
        if (!out.SecretString) throw new Error(`Secret ${secretId} has no string value`);
        return out.SecretString;
      });
    // A failed fetch is not cached, so the next invocation tries again.
    value.catch(() => cache.delete(key));
    cache.set(key, value);
  }
  return value;
}
