/**
 * Parameter Store's GetParameter, and nothing else, for the functions that read secrets.
 *
 * `@aws-sdk/client-ssm` puts about 76 KB in a bundle whatever a function sends (its schema
 * module describes every SSM operation), a fifth of the authorizer's. GetParameter is one
 * AWS JSON 1.1 POST: this module signs it with the SDK's own SigV4 signer and sends it with
 * the SDK's own Node.js HTTP handler, both already in every bundle for the other clients, with
 * the environment's credentials (the function role's, as core/aws/credentials.ts gives every
 * client). The request is what the SDK sends: `X-Amz-Target: AmazonSSM.GetParameter` to
 * `ssm.<region>.amazonaws.com` (`AWS_ENDPOINT_URL_SSM` or `AWS_ENDPOINT_URL` when set, as the
 * SDK honours them: the local runtime's Parameter Store), so IAM authorizes it as
 * `ssm:GetParameter` on the parameter (and KMS decrypts through Parameter Store) as before.
 * It is counted and checked as an SDK command is (core/aws/accounting.ts: the request
 * counts, and the local runtime's IAM check), and retried as the SDK's standard mode retries:
 * up to 3 attempts on throttling, a 5xx or a broken connection, with full-jitter backoff.
 * An error is thrown with the SDK's shape: `name` the error type (`ParameterNotFound`,
 * `AccessDeniedException` ...), `$fault`, `$metadata.httpStatusCode`.
 *
 * Not the Parameters and Secrets Lambda Extension: it would need a layer and a second process
 * in every container (its start is billed INIT time), nine environment variables, a
 * per-region layer ARN, and its cache off to keep Cirrus's freshness rules (core/auth/secrets.ts),
 * leaving it nothing to do but relay the same GetParameter (docs/architecture.md, Secrets).
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/protocols';
import { NodeHttpHandler, streamCollector } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import { sentRequest } from './accounting';

/** What GetParameter answers (the fields Cirrus reads). */
export interface Parameter {
  readonly Name: string;
  readonly Type: string;
  readonly Value: string;
  readonly Version: number;
}

/** An error Parameter Store answered with, shaped as the SDK's service exceptions are. */
export class ParameterStoreError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { readonly httpStatusCode: number; readonly requestId?: string; readonly attempts: number };

  constructor(name: string, message: string, status: number, requestId: string | undefined, attempts: number) {
    super(message);
    this.name = name;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status, requestId, attempts };
  }
}

const MAX_ATTEMPTS = 3;
/** The SDK's standard mode: the first retry waits up to 100 ms, doubling after, at most 20 s. */
const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 20_000;
/** Error types the SDK's standard mode retries as throttling. */
const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'RequestThrottledException']);

interface Sender {
  readonly signer: SignatureV4;
  readonly http: NodeHttpHandler;
  readonly region: string;
}

let sender: Sender | undefined;

function endpoint(region: string): URL {
  const configured = process.env.AWS_ENDPOINT_URL_SSM || process.env.AWS_ENDPOINT_URL;
  if (configured) return new URL(configured);
  return new URL(`https://ssm.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}/`);
}

function getSender(): Sender {
  if (!sender) {
    const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
    if (!region) throw new Error('AWS_REGION is not set: Parameter Store has no endpoint');
    sender = {
      // Signed as the SDK signs SSM requests: no x-amz-content-sha256 header.
      signer: new SignatureV4({ service: 'ssm', region, credentials: fromEnv(), sha256: Sha256, applyChecksum: false }),
      http: new NodeHttpHandler({ connectionTimeout: 3000, requestTimeout: 10_000 }),
      region,
    };
  }
  return sender;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The error type of a JSON 1.1 error body (`com.amazonaws.ssm#ParameterNotFound` → `ParameterNotFound`). */
function errorOf(status: number, body: string, requestId: string | undefined, attempts: number): ParameterStoreError {
  let parsed: { __type?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    // Not JSON (a proxy's page): named by its status below.
  }
  const type = typeof parsed.__type === 'string' ? parsed.__type.split('#').pop()!.split(':')[0] : status >= 500 ? 'InternalServerError' : 'UnknownError';
  const message = typeof parsed.message === 'string' ? parsed.message : typeof parsed.Message === 'string' ? parsed.Message : `Parameter Store answered ${status}`;
  return new ParameterStoreError(type, message, status, requestId, attempts);
}

async function sendOnce(input: { Name: string; WithDecryption: boolean }, attempts: number): Promise<Parameter> {
  const { signer, http, region } = getSender();
  const url = endpoint(region);
  const body = JSON.stringify(input);
  const request = new HttpRequest({
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    method: 'POST',
    path: url.pathname || '/',
    headers: {
      host: url.host,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AmazonSSM.GetParameter',
      'content-length': String(Buffer.byteLength(body)),
    },
    body,
  });
  const signed = await signer.sign(request);
  const { response } = await http.handle(signed as HttpRequest);
  const text = Buffer.from(await streamCollector(response.body)).toString('utf8');
  const requestId = response.headers['x-amzn-requestid'];
  if (response.statusCode < 200 || response.statusCode >= 300) throw errorOf(response.statusCode, text, requestId, attempts);
  const parameter = (JSON.parse(text) as { Parameter?: Parameter }).Parameter;
  if (!parameter) throw new ParameterStoreError('InternalServerError', 'GetParameter answered no Parameter', response.statusCode, requestId, attempts);
  return parameter;
}

function retryable(err: unknown): boolean {
  if (err instanceof ParameterStoreError) return err.$metadata.httpStatusCode >= 500 || err.$metadata.httpStatusCode === 429 || THROTTLING.has(err.name);
  // No answer at all: a reset or refused connection, a timeout.
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EAI_AGAIN)$/.test(code) || (err as Error)?.name === 'TimeoutError';
}

/** The parameter, as GetParameter answers it (`WithDecryption`: a SecureString's plain value). */
export async function getParameter(name: string, withDecryption: boolean): Promise<Parameter> {
  const input = { Name: name, WithDecryption: withDecryption };
  // Counted once, and checked against the caller's role before anything is sent, as an SDK command is.
  sentRequest('SSM', 'GetParameter', input);
  for (let attempt = 1; ; attempt++) {
    try {
      return await sendOnce(input, attempt);
    } catch (err) {
      if (attempt >= MAX_ATTEMPTS || !retryable(err)) throw err;
      await sleep(Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempt - 1)));
    }
  }
}
