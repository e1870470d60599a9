/**
 * The `limits` prop: validated at synth, and compiled into the bundles of exactly the
 * functions that enforce or show the limits (LIMITS), never into Lambda's environment.
 */
import { describe, expect, it } from 'vitest';
import { functions, type FunctionKey } from '../../core/manifest';
import { DEFAULT_LIMITS } from '../../core/domain/limits';
import type { HandlerFunction } from '../../lib/handler-function';
import type { CirrusStackProps } from '../../lib/cirrus-stack';
import { logicalId, synthesizeCirrusStack } from './support';

const keys = Object.keys(functions) as FunctionKey[];

function limitsOf(props?: CirrusStackProps): Partial<Record<FunctionKey, string>> {
  const synth = synthesizeCirrusStack(props);
  const resources = synth.template.toJSON().Resources as Record<string, { Properties: { Environment?: { Variables?: Record<string, unknown> } } }>;
  const out: Partial<Record<FunctionKey, string>> = {};
  for (const key of keys) {
    const fn = synth.stack.im.functions[key];
    expect(resources[logicalId(fn)].Properties.Environment?.Variables ?? {}, key).not.toHaveProperty('LIMITS');
    const compiled = (fn.node.scope as HandlerFunction).compiledSettings.LIMITS;
    if (compiled !== undefined) out[key] = compiled;
  }
  return out;
}

describe('The limits prop', () => {
  it('should compile the default limits into wsMessage, the HTTP functions and archive only', () => {
    const compiled = limitsOf();
    expect(Object.keys(compiled).sort()).toEqual(['archive', 'http', 'httpE2ee', 'httpHistory', 'httpMedia', 'wsMessage']);
    for (const value of Object.values(compiled)) expect(JSON.parse(value)).toEqual(DEFAULT_LIMITS);
  });

  it('should fill a partial setting with the defaults', () => {
    const compiled = limitsOf({ limits: { user: { perSecond: 3 }, window: { messages: 0 } } });
    expect(JSON.parse(compiled.wsMessage!)).toEqual({ ...DEFAULT_LIMITS, user: { perSecond: 3, burst: DEFAULT_LIMITS.user.burst }, window: { ...DEFAULT_LIMITS.window, messages: 0 } });
  });

  it('should turn every limit off with false', () => {
    const compiled = limitsOf({ limits: false });
    expect(Object.values(compiled)).toEqual(['off', 'off', 'off', 'off', 'off', 'off']);
  });
});
