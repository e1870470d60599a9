#!/usr/bin/env node
/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy`. The stack is environment-agnostic
 * (no lookups), so it synthesizes offline; AwsSolutions checks fail the synth on any
 * finding that is not acknowledged in lib/nag-suppressions.ts.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CirrusStack } from '../lib/cirrus-stack';

const app = new App();
new CirrusStack(app, 'Cirrus');
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
