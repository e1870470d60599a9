/**
 * The S3 client, one per container (`AWS_ENDPOINT_URL_S3` locally). Presigning sends no
 * request, so only HeadObject shows up in the request counts.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { countRequests } from './accounting';

let client: S3Client | undefined;

export function s3(): S3Client {
  // An endpoint override (the local stand-in, or any S3-compatible store) serves buckets
  // as paths: `<endpoint>/<bucket>/<key>`, since it has no DNS name per bucket.
  const endpointOverride = Boolean(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL);
  client ??= countRequests(new S3Client({ forcePathStyle: endpointOverride }));
  return client;
}
