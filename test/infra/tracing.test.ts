import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esbuildOptions } from '../../lib/bundling';
import { awsSolutionsFindings, logicalId, synthesizeCirrusStack, synthTimeout, type Synthesized } from './support';

type Resource = { Type: string; Properties: Record<string, any> };

const resourcesOf = (s: Synthesized, type: string): Resource[] => Object.values(s.template.toJSON().Resources as Record<string, Resource>).filter((r) => r.Type === type);
const xrayActions = (s: Synthesized): string[] =>
  resourcesOf(s, 'AWS::IAM::Policy').flatMap((p) =>
    (p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).flatMap((st) => [st.Action].flat()).filter((a) => a.startsWith('xray:')),
  );

describe('X-Ray tracing', () => {
  let off: Synthesized;
  let on: Synthesized;

  beforeAll(() => {
    off = synthesizeCirrusStack();
    on = synthesizeCirrusStack({ tracing: true });
  }, synthTimeout);

  it('is off by default: no function traced, no X-Ray permission', () => {
    const fns = resourcesOf(off, 'AWS::Lambda::Function');
    expect(fns.length).toBeGreaterThan(10);
    for (const fn of fns) expect(fn.Properties.TracingConfig).toBeUndefined();
    expect(xrayActions(off)).toEqual([]);
  });

  it('with `tracing: true`, every function of the manifest is traced actively and may write its segments', () => {
    const resources = on.template.toJSON().Resources as Record<string, Resource>;
    for (const [key, fn] of Object.entries(on.stack.im.functions)) expect(resources[logicalId(fn)].Properties.TracingConfig, key).toEqual({ Mode: 'Active' });
    expect(xrayActions(on)).toEqual(expect.arrayContaining(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']));
  });

  it('with `tracing: true`, leaves no cdk-nag finding unacknowledged', () => {
    expect(awsSolutionsFindings(on.app)).toEqual([]);
  });
});

describe("The Tracer in a function's bundle", () => {
  const dir = mkdtempSync(join(tmpdir(), 'cirrus-tracing-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const bundle = async (tracing: boolean) => {
    const file = join(dir, `ws-connect-${tracing}.mjs`);
    const result = await build({ ...esbuildOptions('ws-connect', file, {}, { tracing }), metafile: true, logLevel: 'silent' });
    const inputs = Object.keys(Object.values(result.metafile!.outputs).find((o) => o.entryPoint)!.inputs);
    return { inputs, bytes: readFileSync(file).length };
  };

  it('is left out when tracing is off, and in when it is on', async () => {
    const without = await bundle(false);
    const withTracer = await bundle(true);
    expect(without.inputs.filter((i) => i.includes('@aws-lambda-powertools/tracer') || i.includes('aws-xray-sdk'))).toEqual([]);
    expect(withTracer.inputs.some((i) => i.includes('@aws-lambda-powertools/tracer'))).toBe(true);
    expect(without.bytes).toBeLessThan(withTracer.bytes);
  }, 120_000);
});
