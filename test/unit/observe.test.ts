/**
 * The handlers' wrapper (core/runtime/observe.ts): Powertools' Logger with the invocation's
 * buffer of lines below the level, written only when the invocation fails, and Metrics written
 * as one EMF line per invocation at most.
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { log } from '../../core/log';
import { count } from '../../core/metrics';
import { observed } from '../../core/runtime/observe';

let lines: string[] = [];
const write = process.stdout.write.bind(process.stdout);
const saved = { level: process.env.LOG_LEVEL, trace: process.env._X_AMZN_TRACE_ID };

beforeEach(() => {
  lines = [];
  process.env.LOG_LEVEL = 'info';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter((l) => l.startsWith('{')));
    return true;
  }) as typeof process.stdout.write;
});

afterEach(() => {
  process.stdout.write = write;
  process.env.LOG_LEVEL = saved.level;
  process.env._X_AMZN_TRACE_ID = saved.trace;
});

const entries = () => lines.map((l) => JSON.parse(l) as Record<string, any>);
const logLines = () => entries().filter((e) => !('_aws' in e));
const emfLines = () => entries().filter((e) => '_aws' in e);

let requests = 0;
/** Invokes as Lambda does: a new request id and X-Ray trace id (which Lambda sets on every invocation) each time. */
function invoke<E, R>(handler: (event: E, context?: Context) => Promise<R>, event: E = {} as E): Promise<R> {
  process.env._X_AMZN_TRACE_ID = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
  const context = { functionName: 'test', awsRequestId: `request-${++requests}`, invokedFunctionArn: 'arn', memoryLimitInMB: '128', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
  return handler(event, context);
}

describe('logs', () => {
  it('write nothing below the level for an invocation that succeeds', async () => {
    const handler = observed('unitA', async () => {
      log.debug('step one', { n: 1 });
      log.debug('step two', { n: 2 });
      return 'ok';
    }, () => ({ correlationId: 'corr-ok' }));
    expect(await invoke(handler)).toBe('ok');
    expect(lines).toEqual([]);
  });

  it('write the buffered lines of an invocation that throws, then the error, with its correlation id and request id; the error goes on to Lambda', async () => {
    const handler = observed('unitB', async () => {
      log.debug('step one', { n: 1 });
      log.info('said at info');
      throw new Error('broken');
    }, () => ({ correlationId: 'corr-fail' }));
    await expect(invoke(handler)).rejects.toThrow('broken');
    const out = logLines();
    expect(out.map((e) => [e.level, e.msg])).toEqual([
      ['info', 'said at info'],
      ['debug', 'step one'],
      ['error', 'Uncaught error detected, flushing log buffer before exit'],
    ]);
    for (const e of out) expect(e).toMatchObject({ fn: 'unitB', correlationId: 'corr-fail', requestId: expect.stringMatching(/^request-/) });
    expect(out[1]).toMatchObject({ n: 1 });
    expect(out[2]).toMatchObject({ errorName: 'Error', errorMessage: 'broken' });
    // Lambda's JSON log format reads these two keys first.
    expect(Object.keys(out[0]).slice(0, 2)).toEqual(['level', 'timestamp']);
  });

  it('write the buffered lines of an invocation that logs an error, before the error', async () => {
    const handler = observed('unitC', async () => {
      log.debug('before the failure');
      log.error('action failed', { err: new Error('no') });
      return 'answered';
    }, () => ({ correlationId: 'corr-err' }));
    expect(await invoke(handler)).toBe('answered');
    expect(logLines().map((e) => [e.level, e.msg, e.correlationId])).toEqual([
      ['debug', 'before the failure', 'corr-err'],
      ['error', 'action failed', 'corr-err'],
    ]);
  });

  it("keep each invocation's buffer its own: a failure writes only its own lines", async () => {
    let fail = false;
    const handler = observed('unitD', async (event: { n: number }) => {
      log.debug('step', { n: event.n });
      if (fail) throw new Error('second fails');
    });
    await invoke(handler, { n: 1 });
    fail = true;
    await expect(invoke(handler, { n: 2 })).rejects.toThrow('second fails');
    expect(logLines().filter((e) => e.msg === 'step').map((e) => e.n)).toEqual([2]);
  });

  it('mark the lines of the first invocation of a container as its cold start, not the later ones', async () => {
    const initialization = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    try {
      const handler = observed('unitE', async () => log.warn('said'));
      await invoke(handler);
      await invoke(handler);
      expect(logLines().map((e) => e.coldStart)).toEqual([true, undefined]);
    } finally {
      process.env.AWS_LAMBDA_INITIALIZATION_TYPE = initialization;
    }
  });

  it('at debug, write every line as it comes and buffer nothing', async () => {
    process.env.LOG_LEVEL = 'debug';
    const handler = observed('unitF', async () => log.debug('visible'));
    await invoke(handler);
    expect(logLines().map((e) => [e.level, e.msg])).toEqual([['debug', 'visible']]);
  });
});

describe('metrics', () => {
  it('write nothing for an invocation that counted nothing', async () => {
    await invoke(observed('unitM1', async () => 'quiet'));
    expect(lines).toEqual([]);
  });

  it("write an invocation's counts as one EMF line when it ends, in the Cirrus namespace with the service dimension", async () => {
    const handler = observed('unitM2', async () => {
      count('Kicks', 2);
      count('PushesGone');
      count('PushesGone');
      count('NotificationsFailed', 0);
      expect(emfLines()).toEqual([]);
    });
    await invoke(handler);
    const emf = emfLines();
    expect(emf).toHaveLength(1);
    expect(emf[0]._aws.CloudWatchMetrics).toEqual([
      { Namespace: 'Cirrus', Dimensions: [['service']], Metrics: expect.arrayContaining([{ Name: 'Kicks', Unit: 'Count' }, { Name: 'PushesGone', Unit: 'Count' }]) },
    ]);
    expect(emf[0]._aws.CloudWatchMetrics[0].Metrics).toHaveLength(2);
    expect(emf[0]).toMatchObject({ service: 'cirrus', Kicks: 2, PushesGone: 2 });
    expect(emf[0]).not.toHaveProperty('NotificationsFailed');
  });

  it('write the counts of an invocation that fails too, once', async () => {
    const handler = observed('unitM3', async () => {
      count('PushesFailed');
      throw new Error('after counting');
    });
    await expect(invoke(handler)).rejects.toThrow('after counting');
    expect(emfLines()).toHaveLength(1);
    expect(emfLines()[0]).toMatchObject({ PushesFailed: 1 });
    // The next invocation starts from nothing.
    lines = [];
    await invoke(observed('unitM3', async () => 'quiet'));
    expect(emfLines()).toEqual([]);
  });

  it('write a count with a dimension of its own (a refusal by reason) as its own line', async () => {
    await invoke(observed('unitM4', async () => count('MessagesRefused', 1, { reason: 'NOT_FRIENDS' })));
    const emf = emfLines();
    expect(emf).toHaveLength(1);
    // The total by service, and by service and reason.
    expect(emf[0]._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service'], ['service', 'reason']]);
    expect(emf[0]).toMatchObject({ service: 'cirrus', reason: 'NOT_FRIENDS', MessagesRefused: 1 });
  });
});

describe("logs under Lambda's log controls at DEBUG (as deployed)", () => {
  it('buffer the lines below LOG_LEVEL all the same, and write them only for an invocation that fails', async () => {
    const alc = process.env.AWS_LAMBDA_LOG_LEVEL;
    process.env.AWS_LAMBDA_LOG_LEVEL = 'DEBUG';
    try {
      let fail = false;
      const handler = observed('unitAlc', async () => {
        log.debug('a step');
        if (fail) log.error('it failed');
      });
      await invoke(handler);
      expect(logLines()).toEqual([]);
      fail = true;
      await invoke(handler);
      expect(logLines().map((e) => [e.level, e.msg])).toEqual([
        ['debug', 'a step'],
        ['error', 'it failed'],
      ]);
    } finally {
      if (alc === undefined) delete process.env.AWS_LAMBDA_LOG_LEVEL;
      else process.env.AWS_LAMBDA_LOG_LEVEL = alc;
    }
  });
});

describe('logs outside an invocation', () => {
  it('drop the lines below the level even where Lambda lets the Logger write every level', async () => {
    const alc = process.env.AWS_LAMBDA_LOG_LEVEL;
    process.env.AWS_LAMBDA_LOG_LEVEL = 'DEBUG';
    process.env.LOG_LEVEL = 'warn';
    delete process.env._X_AMZN_TRACE_ID;
    try {
      log.debug('at initialisation');
      log.info('at initialisation too');
      log.warn('a warning');
      expect(logLines().map((e) => e.msg)).toEqual(['a warning']);
    } finally {
      if (alc === undefined) delete process.env.AWS_LAMBDA_LOG_LEVEL;
      else process.env.AWS_LAMBDA_LOG_LEVEL = alc;
    }
  });
});
