/**
 * Helpers shared by the infrastructure tests: synthesizing takes seconds (every function
 * is bundled by esbuild), so each `describe` synthesizes once, in `beforeAll`.
 */
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { CirrusStack, type CirrusStackProps } from '../../lib/cirrus-stack';

/** Generous: bundling nine functions on a slow, busy CI machine. */
export const synthTimeout = 300_000;

export interface Synthesized {
  readonly app: App;
  readonly stack: CirrusStack;
  readonly template: Template;
}

/**
 * A full synth (every function bundled, the template checked by CDK's built-in
 * CloudFormation validation) takes about 15 seconds; the main configuration's test does
 * it once. Tests of other configurations only read the template, so they skip both and
 * synthesize in under a second.
 */
export function testApp(options: { full?: boolean } = {}): App {
  return options.full
    ? new App()
    : new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
}

export function synthesizeCirrusStack(props?: CirrusStackProps, options: { full?: boolean } = {}): Synthesized {
  const app = testApp(options);
  const stack = new CirrusStack(app, 'Cirrus', props);
  return { app, stack, template: Template.fromStack(stack) };
}

/** The logical id of a construct's CloudFormation resource, as the template names it. */
export function logicalId(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).resolve(element.logicalId) as string;
}

/** Every AwsSolutions finding that is not acknowledged, one line each. */
export function awsSolutionsFindings(app: App): string[] {
  const report = new AwsSolutionsChecks(app, { verbose: true }).validateScope(app);
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map(
      (resource) => `${violation.severity} ${violation.ruleName} at ${resource.constructPath}: ${violation.description}`,
    ),
  );
}
