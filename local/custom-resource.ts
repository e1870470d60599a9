/**
 * The CDK Provider framework's protocol, as the deployed custom resource runs it: the onEvent
 * handler once, then, when the provider has an isComplete handler, that handler with the
 * event merged with onEvent's answer, at once and then every `queryIntervalMs`, until it
 * answers `IsComplete` or `totalTimeoutMs` has passed ("Operation timed out"). An incomplete
 * answer carrying `Data` fails, as it does on AWS.
 */
export interface ProviderOptions {
  /** The provider has an isComplete handler (`false`: onEvent's answer is the result). */
  readonly polls: boolean;
  readonly queryIntervalMs: number;
  readonly totalTimeoutMs: number;
}

export interface CustomResourceResult {
  readonly PhysicalResourceId: string;
  readonly Data: Record<string, unknown>;
}

type Handler = (event: Record<string, unknown>) => Promise<unknown>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runCustomResource(
  onEvent: Handler,
  isComplete: Handler,
  event: Record<string, unknown>,
  options: ProviderOptions,
): Promise<CustomResourceResult> {
  const started = Date.now();
  const answer = ((await onEvent(event)) ?? {}) as Record<string, unknown>;
  const physicalId = (answer.PhysicalResourceId as string | undefined) ?? (event.PhysicalResourceId as string | undefined) ?? String(event.RequestId);
  if (event.RequestType === 'Delete' && event.PhysicalResourceId !== undefined && physicalId !== event.PhysicalResourceId) {
    throw new Error(`DELETE: cannot change the physical resource ID from "${String(event.PhysicalResourceId)}" to "${physicalId}" during deletion`);
  }
  const resourceEvent: Record<string, unknown> = { ...event, ...answer, PhysicalResourceId: physicalId };
  if (!options.polls) return { PhysicalResourceId: physicalId, Data: (answer.Data as Record<string, unknown>) ?? {} };
  for (;;) {
    const result = ((await isComplete(resourceEvent)) ?? {}) as { IsComplete?: boolean; Data?: Record<string, unknown> };
    if (result.IsComplete) {
      return { PhysicalResourceId: physicalId, Data: { ...((resourceEvent.Data as Record<string, unknown>) ?? {}), ...(result.Data ?? {}) } };
    }
    if (result.Data && Object.keys(result.Data).length > 0) throw new Error('"Data" is not allowed if "IsComplete" is "False"');
    if (Date.now() + options.queryIntervalMs - started > options.totalTimeoutMs) throw new Error('Operation timed out');
    await sleep(options.queryIntervalMs);
  }
}
