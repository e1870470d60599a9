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
// `npx cdk deploy -c demoSiteTokenUrl=https://app.example.com/cirrus/token` adds the web chat
// demo site (build it first: `npm run web:build`); see docs/deploy.md.
const demoSiteTokenUrl = app.node.tryGetContext('demoSiteTokenUrl') as string | undefined;
new CirrusStack(app, 'Cirrus', demoSiteTokenUrl ? { demoSite: { tokenUrl: demoSiteTokenUrl } } : {});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
