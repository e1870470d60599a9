/** The SSM (Parameter Store) client, one per container (`AWS_ENDPOINT_URL_SSM` locally). */
import { SSMClient } from '@aws-sdk/client-ssm';
import { countRequests } from './accounting';

let client: SSMClient | undefined;

export function ssm(): SSMClient {
  client ??= countRequests(new SSMClient({}));
  return client;
}
