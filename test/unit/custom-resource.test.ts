/**
 * The local runtime runs the migrations custom resource as the CDK Provider framework does at
 * deploy: onEvent, then isComplete with onEvent's answer merged into the event, until complete.
 */
import { describe, expect, it } from 'vitest';
import { runCustomResource } from '../../local/custom-resource';

const create = { RequestType: 'Create', RequestId: 'r1', ResourceProperties: { a: '1' } };
const polling = { polls: true, queryIntervalMs: 0, totalTimeoutMs: 10_000 };

describe('runCustomResource', () => {
  it('polls with the event merged with onEvent\'s answer until complete, and merges the data', async () => {
    const seen: Record<string, unknown>[] = [];
    let left = 3;
    const result = await runCustomResource(
      async () => ({ PhysicalResourceId: 'p', Data: { applied: 'x' }, Poll: 'migrations' }),
      async (event) => {
        seen.push(event);
        return --left > 0 ? { IsComplete: false } : { IsComplete: true, Data: { done: 'yes' } };
      },
      create,
      polling,
    );
    expect(result).toEqual({ PhysicalResourceId: 'p', Data: { applied: 'x', done: 'yes' } });
    expect(seen).toHaveLength(3);
    expect(seen[0]).toMatchObject({ RequestType: 'Create', ResourceProperties: { a: '1' }, PhysicalResourceId: 'p', Poll: 'migrations', Data: { applied: 'x' } });
  });

  it('fails an incomplete answer that carries data, as the framework does', async () => {
    await expect(runCustomResource(async () => ({}), async () => ({ IsComplete: false, Data: { x: '1' } }), create, polling)).rejects.toThrow('"Data" is not allowed if "IsComplete" is "False"');
  });

  it('times out when never complete', async () => {
    await expect(runCustomResource(async () => ({}), async () => ({ IsComplete: false }), create, { polls: true, queryIntervalMs: 20, totalTimeoutMs: 50 })).rejects.toThrow('Operation timed out');
  });

  it('refuses a delete that changes the physical id, and needs no poll without an isComplete handler', async () => {
    await expect(
      runCustomResource(async () => ({ PhysicalResourceId: 'other' }), async () => ({ IsComplete: true }), { RequestType: 'Delete', RequestId: 'r2', PhysicalResourceId: 'p' }, polling),
    ).rejects.toThrow('cannot change the physical resource ID');
    let polled = false;
    const result = await runCustomResource(async () => ({ Data: { a: 1 } }), async () => ((polled = true), { IsComplete: true }), create, { ...polling, polls: false });
    expect(result).toEqual({ PhysicalResourceId: 'r1', Data: { a: 1 } });
    expect(polled).toBe(false);
  });
});
