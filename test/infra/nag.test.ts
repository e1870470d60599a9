import { beforeAll, describe, expect, it } from 'vitest';
import { Validations } from 'aws-cdk-lib';
import { awsSolutionsFindings, synthesizeCirrusStack, synthTimeout, type Synthesized } from './support';

describe('When CirrusStack is checked with the cdk-nag AwsSolutions pack', () => {
  let synthesized: Synthesized;
  let findings: string[];

  beforeAll(() => {
    synthesized = synthesizeCirrusStack();
    findings = awsSolutionsFindings(synthesized.app);
  }, synthTimeout);

  it('should report no unacknowledged error', () => {
    const errors = findings.filter((finding) => finding.startsWith('error '));
    expect(errors, errors.join('\n')).toEqual([]);
  });

  it('should report no unacknowledged warning', () => {
    const warnings = findings.filter((finding) => !finding.startsWith('error '));
    expect(warnings, warnings.join('\n')).toEqual([]);
  });

  it('should give a reason for every acknowledgement', () => {
    const acknowledgements = synthesized.stack.node
      .findAll()
      .flatMap((construct) => construct.node.metadata)
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
      .filter(([rule]) => rule.includes('AwsSolutions-'));
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const [rule, reason] of acknowledgements) {
      expect(reason.length, rule).toBeGreaterThan(30);
    }
  });
});
