/**
 * Response builders shared by the stand-ins that speak AWS's JSON protocols. The SDK
 * decides which exception class to throw from the error type alone (`__type` in the
 * body for JSON RPC, `x-amzn-errortype` for REST-JSON), so these are the parts that
 * must be exact; the request id is only there because every AWS response carries one.
 */
import { randomUUID } from 'node:crypto';
import type { StandInRequest, StandInResponse } from './types';

export function jsonResponse(body: unknown, contentType: string, status = 200): StandInResponse {
  return {
    status,
    headers: { 'content-type': contentType, 'x-amzn-requestid': randomUUID() },
    body: JSON.stringify(body ?? {}),
  };
}

export interface JsonRpcError {
  readonly status: number;
  /** Shape id or bare name, e.g. `com.amazonaws.sqs#QueueDoesNotExist`. */
  readonly type: string;
  readonly message: string;
  /**
   * `Code;Sender` for services that were migrated from the Query protocol (SQS): the
   * SDK prefers this header's code to `__type` and maps it back through the model's
   * `awsQueryError` trait.
   */
  readonly queryError?: string;
}

export function jsonRpcError(err: JsonRpcError, contentType: string): StandInResponse {
  const headers: Record<string, string> = {
    'content-type': contentType,
    'x-amzn-requestid': randomUUID(),
  };
  if (err.queryError) headers['x-amzn-query-error'] = err.queryError;
  return { status: err.status, headers, body: JSON.stringify({ __type: err.type, message: err.message }) };
}

/** REST-JSON errors (the Data API): the type travels in a header, the body holds the message. */
export function restJsonError(status: number, type: string, message: string): StandInResponse {
  return {
    status,
    headers: {
      'content-type': 'application/json',
      'x-amzn-errortype': type,
      'x-amzn-requestid': randomUUID(),
    },
    body: JSON.stringify({ message }),
  };
}

/** The operation named by `x-amz-target: <prefix>.<Operation>`, or undefined when the request is another service's. */
export function targetOperation(req: StandInRequest, prefix: string): string | undefined {
  const target = req.headers['x-amz-target'];
  if (req.method !== 'POST' || !target || !target.startsWith(`${prefix}.`)) return undefined;
  return target.slice(prefix.length + 1);
}

/** Parses a JSON request body; an empty body is an empty input, as the SDK sends for unit inputs. */
export function parseJsonBody(body: string): Record<string, unknown> | undefined {
  if (body.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The access key id in a SigV4 `Authorization` header (the local stand-in for a caller's identity). */
export function accessKeyOf(req: StandInRequest): string | undefined {
  const match = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '');
  return match?.[1];
}
