/** The RDS Data API client, one per container (`AWS_ENDPOINT_URL_RDS_DATA` locally). */
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { countRequests } from './accounting';

let client: RDSDataClient | undefined;

export function rdsData(): RDSDataClient {
  client ??= countRequests(new RDSDataClient({}));
  return client;
}
