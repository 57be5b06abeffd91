/**
 * A complete CDK app guarded by entra-authorizer: a REST API with two routes and their rules, the gateway's
 * 401/403/500 answers, and the alarms. Copy this folder into an app made by `cdk init app --language
 * typescript`, `npm install entra-authorizer-<version>.tgz`, `npm install -D @types/aws-lambda tsx` (the backends'
 * types), point cdk.json's "app" at this file (`npx tsc && npx tsx items-api/app.ts`), and run `npx cdk deploy
 * -c tenantId=<tenant GUID> -c clientId=<client GUID>`. The backends are bundled by NodejsFunction: install
 * esbuild (`npm install -D esbuild`), or CDK bundles them in Docker.
 */
import * as path from 'node:path';
import { App, Stack, type StackProps } from 'aws-cdk-lib';
import { LambdaIntegration, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { EntraTokenAuthorizer } from 'entra-authorizer';

export interface ItemsStackProps extends StackProps {
  /** The Directory (tenant) ID of your Entra tenant. */
  readonly tenantId: string;
  /** Your API's Application (client) ID. */
  readonly clientId: string;
}

export class ItemsStack extends Stack {
  constructor(scope: Construct, id: string, props: ItemsStackProps) {
    super(scope, id, props);
    const entra = new EntraTokenAuthorizer(this, 'EntraAuthorizer', {
      tenantId: props.tenantId,
      clientId: props.clientId,
    });
    const api = new RestApi(this, 'ItemsApi');
    const backend = (name: string) =>
      new NodejsFunction(this, name, {
        entry: path.join(__dirname, 'lambda', `${name.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}.ts`),
        runtime: Runtime.NODEJS_22_X,
      });

    // Each method is added with its rule in one call: the rule's key is the method's own path.
    const items = api.root.addResource('items');
    entra.addMethod(items, 'GET', new LambdaIntegration(backend('ListItems')), { scopes: ['Items.Read'] });
    entra.addMethod(items.addResource('{id}'), 'DELETE', new LambdaIntegration(backend('DeleteItem')), {
      roles: ['Items.Admin'],
    });

    entra.addGatewayResponses(api); // 401/403/500 with RFC 6750 challenges, CORS on every gateway error
    entra.addAlarms({ action: new SnsAction(new Topic(this, 'AuthorizerAlarms')) });
  }
}

const app = new App();
const context = (key: string): string => {
  const value: unknown = app.node.tryGetContext(key);
  if (typeof value !== 'string') throw new Error(`pass -c ${key}=<GUID>`);
  return value;
};
new ItemsStack(app, 'ItemsStack', { tenantId: context('tenantId'), clientId: context('clientId') });
app.synth();
