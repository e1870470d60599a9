/**
 * Secret values from Secrets Manager, fetched once per container: a warm function sends
 * no GetSecretValue on the message path.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { secrets } from '../aws/secrets-manager';

const cache = new Map<string, Promise<string>>();

export function secretValue(secretId: string): Promise<string> {
  let value = cache.get(secretId);
  if (!value) {
    value = secrets()
      .send(new GetSecretValueCommand({ SecretId: secretId }))
      .then((out) => {
        if (!out.SecretString) throw new Error(`Secret ${secretId} has no string value`);
        return out.SecretString;
      });
    // A failed fetch is not cached, so the next invocation tries again.
    value.catch(() => cache.delete(secretId));
    cache.set(secretId, value);
  }
  return value;
}
