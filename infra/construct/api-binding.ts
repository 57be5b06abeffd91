import { Stack } from 'aws-cdk-lib';
import {
  type CfnMethod,
  type IRestApi,
  Method,
  TokenAuthorizer,
  type TokenAuthorizerProps,
} from 'aws-cdk-lib/aws-apigateway';
import type { Construct } from 'constructs';
import { PropsError } from './errors.js';
import type { ApiMethod } from './route-coverage.js';

/**
 * The construct's TOKEN authorizer, which knows the one RestApi it belongs to. CDK attaches an authorizer to
 * an API when a method of that API first uses it (`_attachToApi`, a hook of every aws-cdk-lib 2 release); an API Gateway authorizer is a resource of one RestApi, so a method of a second API is
 * refused here with a message that says what to do, rather than CDK's bare one.
 */
export class ApiBoundTokenAuthorizer extends TokenAuthorizer {
  #api: IRestApi | undefined;

  constructor(
    scope: Construct,
    id: string,
    props: TokenAuthorizerProps,
    private readonly onAttach: (api: IRestApi) => void,
  ) {
    super(scope, id, props);
  }

  /** The RestApi whose methods use this authorizer, once one does. */
  get api(): IRestApi | undefined {
    return this.#api;
  }

  /** @internal */
  override _attachToApi(restApi: IRestApi): void {
    const owner = this.node.scope?.node.path ?? this.node.path;
    if (this.#api !== undefined && this.#api !== restApi) {
      throw new PropsError(
        'EntraTokenAuthorizer',
        'authorizer',
        `used on one RestApi only (an API Gateway authorizer belongs to one API, and ${owner} already guards ${this.#api.node.path}): create one EntraTokenAuthorizer per API`,
        `a method of ${restApi.node.path}`,
      );
    }
    super._attachToApi(restApi);
    if (this.#api === undefined) {
      this.#api = restApi;
      this.onAttach(restApi);
    }
  }

  /** The methods of its API that use this authorizer, as declared (`ANY` included). */
  guardedMethods(): ApiMethod[] {
    const api = this.#api;
    if (api === undefined) return [];
    const ours = JSON.stringify(Stack.of(this).resolve(this.authorizerId));
    return api.node
      .findAll()
      .filter((c): c is Method => c instanceof Method)
      .filter((m) => {
        const cfn = m.node.defaultChild as CfnMethod;
        return JSON.stringify(Stack.of(m).resolve(cfn.authorizerId)) === ours;
      })
      .map((m) => ({ httpMethod: m.httpMethod, resourcePath: m.resource.path }));
  }
}
