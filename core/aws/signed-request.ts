/**
 * One AWS request without its service's SDK client: for the calls Cirrus's functions make to
 * services whose client would cost a bundle far more than the calls (Parameter Store's
 * GetParameter, core/aws/parameters.ts; Lambda's asynchronous Invoke, core/aws/lambda.ts; API
 * Gateway's PostToConnection and DeleteConnection, core/aws/management.ts; SQS's SendMessage and
 * SendMessageBatch, core/aws/sqs.ts). An SDK client carries the schemas of every operation and
 * error of its service whatever a function sends (about 76 KB for SSM, 72 KB for Lambda, 26 KB
 * for API Gateway's with its REST-JSON protocol code, 23 KB for SQS); these calls are one request each.
 *
 * The request is signed with the SDK's own SigV4 signer and sent with the SDK's own Node.js
 * HTTP handler, both already in every bundle for the DynamoDB client, with the environment's
 * credentials (the function role's, as core/aws/credentials.ts gives every client), to the
 * service's regional endpoint (`AWS_ENDPOINT_URL_<SERVICE>` or `AWS_ENDPOINT_URL` when set, as
 * the SDK honours them: the local runtime's stand-ins), or to the endpoint given (an API Gateway
 * stage's). IAM so authorizes it exactly as the
 * client's. It is counted and checked as an SDK command is (core/aws/accounting.ts: the request
 * counts, and the local runtime's IAM check), and retried as the SDK's standard mode retries:
 * up to 3 attempts (unless the caller asks for fewer) on throttling, a 5xx or a broken
 * connection, with full-jitter backoff. Connections are kept alive between requests. An
 * error is thrown with the SDK's shape: `name` the error type, `$fault`, `$metadata`. With X-Ray
 * tracing on, Powertools' Tracer records it as an HTTPS subsegment (it captures `node:https`),
 * not as an AWS call with the service's own annotations.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/protocols';
import { NodeHttpHandler, streamCollector } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import { sentRequest } from './accounting';

/** An error a service answered with, shaped as the SDK's service exceptions are. */
export class AwsServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { readonly httpStatusCode: number; readonly requestId?: string; readonly attempts: number };

  constructor(name: string, message: string, status: number, requestId: string | undefined, attempts: number) {
    super(message);
    this.name = name;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status, requestId, attempts };
  }
}

export interface SignedRequest {
  /** The signing name, and the endpoint prefix unless `endpoint` is given (`ssm`, `lambda`, `sqs`, `execute-api`). */
  readonly service: 'ssm' | 'lambda' | 'sqs' | 'execute-api';
  /** How it is counted and checked: the SDK's service and command names (`SSM`, `GetParameter`). */
  readonly counted: { readonly service: string; readonly command: string; readonly input: Record<string, unknown> };
  /** POST unless given. */
  readonly method?: 'POST' | 'GET' | 'DELETE';
  /**
   * The endpoint, when the service has one per resource rather than per region (an API
   * Gateway stage's `https://{api}.execute-api.{region}.amazonaws.com/{stage}`); its path prefixes `path`.
   */
  readonly endpoint?: string;
  /** The path, already percent-encoded. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Absent: no body (a GET or DELETE). */
  readonly body?: string | Uint8Array;
  /** Attempts in all (3 unless given): 1 for a caller that handles its retries itself. */
  readonly maxAttempts?: number;
  /** Keep-alive sockets kept per endpoint (50 unless given, as the SDK's handler): at least the requests kept in flight. */
  readonly maxSockets?: number;
}

export interface SignedResponse {
  readonly status: number;
  readonly body: string;
}

const MAX_ATTEMPTS = 3;
/** The SDK's standard mode: the first retry waits up to 100 ms, doubling after, at most 20 s. */
const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 20_000;
/** Error types the SDK's standard mode retries as throttling. */
const THROTTLING = new Set([
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);

/** One handler per socket pool size: keep-alive connections reused across requests and invocations. */
const handlers = new Map<number, NodeHttpHandler>();
const DEFAULT_SOCKETS = 50;

function handler(maxSockets: number): NodeHttpHandler {
  let found = handlers.get(maxSockets);
  if (!found) {
    const agent = { maxSockets };
    handlers.set(maxSockets, (found = new NodeHttpHandler({ connectionTimeout: 3000, requestTimeout: 10_000, httpAgent: agent, httpsAgent: agent })));
  }
  return found;
}

/** A path segment as the SDK encodes a label (encodeURIComponent, and `!'()*` too). */
export const encodePathSegment = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const signers = new Map<string, SignatureV4>();

function region(): string {
  const name = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
  if (!name) throw new Error('AWS_REGION is not set: no AWS endpoint to send to');
  return name;
}

function endpoint(service: string, regionName: string): URL {
  const configured = process.env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] || process.env.AWS_ENDPOINT_URL;
  if (configured) return new URL(configured);
  return new URL(`https://${service}.${regionName}.${regionName.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`);
}

function signer(service: string, regionName: string): SignatureV4 {
  const key = `${service} ${regionName}`;
  let found = signers.get(key);
  // Signed as the SDK signs these services' requests: no x-amz-content-sha256 header.
  if (!found) signers.set(key, (found = new SignatureV4({ service, region: regionName, credentials: fromEnv(), sha256: Sha256, applyChecksum: false })));
  return found;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The error type of an answer: AWS JSON 1.1's `__type` (`com.amazonaws.ssm#ParameterNotFound`),
 * or REST-JSON's `x-amzn-errortype` header (`ResourceNotFoundException:http://…`) or `code`.
 */
function errorOf(status: number, headers: Record<string, string>, body: string, attempts: number): AwsServiceError {
  let parsed: { __type?: unknown; code?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    // Not JSON (a proxy's page): named by its status below.
  }
  const raw = headers['x-amzn-errortype'] ?? (typeof parsed.__type === 'string' ? parsed.__type : typeof parsed.code === 'string' ? parsed.code : undefined);
  const type = raw ? raw.split(':')[0].split('#').pop()! : status >= 500 ? 'InternalServerError' : 'UnknownError';
  const message = typeof parsed.message === 'string' ? parsed.message : typeof parsed.Message === 'string' ? parsed.Message : `AWS answered ${status}`;
  return new AwsServiceError(type, message, status, headers['x-amzn-requestid'], attempts);
}

async function sendOnce(req: SignedRequest, attempts: number): Promise<SignedResponse> {
  const regionName = region();
  const url = req.endpoint ? new URL(req.endpoint) : endpoint(req.service, regionName);
  const base = url.pathname.replace(/\/$/, '');
  const length = req.body === undefined ? undefined : typeof req.body === 'string' ? Buffer.byteLength(req.body) : req.body.byteLength;
  const request = new HttpRequest({
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    method: req.method ?? 'POST',
    path: `${base}${req.path}`,
    headers: { ...req.headers, host: url.host, ...(length === undefined ? {} : { 'content-length': String(length) }) },
    body: req.body,
  });
  const signed = await signer(req.service, regionName).sign(request);
  const { response } = await handler(req.maxSockets ?? DEFAULT_SOCKETS).handle(signed as HttpRequest);
  const body = Buffer.from(await streamCollector(response.body)).toString('utf8');
  if (response.statusCode < 200 || response.statusCode >= 300) throw errorOf(response.statusCode, response.headers, body, attempts);
  return { status: response.statusCode, body };
}

function retryable(err: unknown): boolean {
  if (err instanceof AwsServiceError) return err.$metadata.httpStatusCode >= 500 || err.$metadata.httpStatusCode === 429 || THROTTLING.has(err.name);
  // No answer at all: a reset or refused connection, a timeout.
  const code = (err as { code?: unknown })?.code;
  return (typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EAI_AGAIN)$/.test(code)) || (err as Error)?.name === 'TimeoutError';
}

/** Sends the request, signed; resolves with a 2xx answer, throws the service's error otherwise. */
export async function sendSigned(req: SignedRequest): Promise<SignedResponse> {
  // Counted once, and checked against the caller's role before anything is sent, as an SDK command is.
  sentRequest(req.counted.service, req.counted.command, req.counted.input);
  const maxAttempts = req.maxAttempts ?? MAX_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await sendOnce(req, attempt);
    } catch (err) {
      if (attempt >= maxAttempts || !retryable(err)) throw err;
      await sleep(Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempt - 1)));
    }
  }
}
