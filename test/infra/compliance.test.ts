/**
 * Compliance resources in the template: the audit log table and who may write and read it, the
 * daily retention rule (disabled unless the deployment needs it) and its setting, which only
 * the functions using the history receive.
 */
import { describe, expect, it } from 'vitest';
import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { functions, type FunctionKey } from '../../core/manifest';
import { CirrusIm, type CirrusImProps } from '../../lib/cirrus-im';
import { logicalId, synthesizeCirrusStack } from './support';

describe('When historyRetentionDays is invalid', () => {
  it.each<[string, CirrusImProps]>([
    ['0', { historyRetentionDays: 0 }],
    ['fractional', { historyRetentionDays: 1.5 }],
    ['above 36500', { historyRetentionDays: 36_501 }],
  ])('should reject %s with a plain sentence', (_, props) => {
    expect(() => new CirrusIm(new Stack(new App(), 'Host'), 'Im', props)).toThrow(/^historyRetentionDays must be a whole number of days, 1 to 36500/);
  });
});

describe('The retention schedule', () => {
  it('is a daily rule invoking the retention function, disabled without a retention', () => {
    const { stack, template } = synthesizeCirrusStack();
    const fn = logicalId(stack.im.functions.retention);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      State: 'DISABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fn, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21_600 }, DeadLetterConfig: Match.anyValue() })],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', FunctionName: { 'Fn::GetAtt': [fn, 'Arn'] } });
    // No function gets the setting.
    for (const [, resource] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
      expect(JSON.stringify(resource)).not.toContain('HISTORY_RETENTION_DAYS');
    }
  });

  it('is enabled with historyRetentionDays, which only the functions using the history receive', () => {
    const { stack, template } = synthesizeCirrusStack({ historyRetentionDays: 90 });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 day)', State: 'ENABLED' });
    for (const key of Object.keys(functions) as FunctionKey[]) {
      const variables = template.findResources('AWS::Lambda::Function')[logicalId(stack.im.functions[key])]?.Properties?.Environment?.Variables ?? {};
      expect(variables.HISTORY_RETENTION_DAYS, key).toBe(functions[key].history ? '90' : undefined);
    }
  });

  it('is enabled with groupRetention alone', () => {
    synthesizeCirrusStack({ groupRetention: true }).template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 day)', State: 'ENABLED' });
  });
});

describe('The audit log', () => {
  it('is a table with its byTarget index', () => {
    const { template } = synthesizeCirrusStack();
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'log', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'byTarget', KeySchema: [{ AttributeName: 'target', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }] })],
    });
  });

  it('is written by the functions serving admin routes (http through the Outbox and archive), read by httpHistory only', () => {
    for (const key of Object.keys(functions) as FunctionKey[]) {
      const actions = (functions[key].tables as Record<string, readonly string[]>).auditLog ?? [];
      if (key === 'httpHistory') expect(actions).toEqual(['PutItem', 'Query']);
      else if (key === 'httpMedia' || key === 'httpE2ee') expect(actions).toEqual(['PutItem']);
      // The Outbox's entries, and the entry of a user the sending window throttles.
      else if (key === 'archive') expect(actions).toEqual(['BatchWriteItem', 'PutItem']);
      else expect(actions, key).toEqual([]);
    }
    expect(functions.http.tables.outbox).toContain('PutItem');
  });
});
