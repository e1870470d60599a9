/**
 * The SSM (Parameter Store) client, one per container (`AWS_ENDPOINT_URL_SSM` locally), for
 * the custom resource that puts the parameters, the local runtime and tests. The functions
 * that read secrets send GetParameter through core/aws/parameters.ts, without this client.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { countRequests } from './accounting';

let client: SSMClient | undefined;

export function ssm(): SSMClient {
  client ??= countRequests(new SSMClient({}));
  return client;
}
