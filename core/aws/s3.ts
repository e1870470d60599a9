/**
 * The S3 clients, one of each per container (`AWS_ENDPOINT_URL_S3` locally): `s3()` for
 * requests, counted like every other service's; `s3Presigner()` for presigning, which
 * runs a command's middleware but sends nothing, so it stays out of the request counts
 * (its requests are still checked when signed: S3 refuses a URL signed for what the signer
 * may not do, and the local stand-in cannot tell which function signed one).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { checkRequests, countRequests } from './accounting';

let client: S3Client | undefined;
let presigner: S3Client | undefined;

/**
 * An endpoint override (the local stand-in, or any S3-compatible store) serves buckets as
 * paths, `<endpoint>/<bucket>/<key>`, since it has no DNS name per bucket.
 */
const newClient = () => new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL) });

export function s3(): S3Client {
  client ??= countRequests(newClient());
  return client;
}

export function s3Presigner(): S3Client {
  presigner ??= checkRequests(newClient());
  return presigner;
}
