/** The Secrets Manager client, one per container (`AWS_ENDPOINT_URL_SECRETS_MANAGER` locally). */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { countRequests } from './accounting';

let client: SecretsManagerClient | undefined;

export function secrets(): SecretsManagerClient {
  client ??= countRequests(new SecretsManagerClient({}));
  return client;
}
