import { describe, expect, it } from 'vitest';
import { renderTemplate, templateLogic } from '../../infra/local/mapping-template.js';

/**
 * Mapping templates as API Gateway's reference describes them: plain `$context`, `$stageVariables` and
 * `$input.params('x')` references are replaced by their values (bare, quiet `$!` and formal `${}` forms);
 * anything only Velocity can run is named, so the method is answered 501 rather than rendered differently.
 */
const values = {
  context: (name: string) =>
    ({ 'authorizer.principalId': 'user-1', requestId: 'r-1', stage: 'prod' })[name] as string | undefined,
  stageVariables: { env: 'dev' },
  param: (name: string) => ({ id: '42' })[name as 'id'],
};

describe('plain references, replaced as API Gateway replaces them', () => {
  it.each([
    ['{"caller": "$context.authorizer.principalId"}', '{"caller": "user-1"}'],
    ['$!context.requestId.', 'r-1.'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Velocity's formal reference, not a placeholder
    ['${context.stage}x', 'prodx'],
    ['$!{stageVariables.env}/$stageVariables.env', 'dev/dev'],
    [`{"id": "$input.params('id')", "q": "$input.params("id")"}`, '{"id": "42", "q": "42"}'],
    ['{"missing": "$context.authorizer.nope", "p": "$input.params(\'nope\')"}', '{"missing": "", "p": ""}'],
    ['price: $5, {"$ref": "#/x"}, "#fff"', 'price: $5, {"$ref": "#/x"}, "#fff"'],
  ])('%s -> %s', (template, rendered) => {
    expect(templateLogic(template)).toBeUndefined();
    expect(renderTemplate(template, values)).toBe(rendered);
  });
});

describe('logic only Velocity runs, named', () => {
  it.each([
    ['#if($context.stage == "prod")a#end', 'the directive #if'],
    ['#set($x = 1)$x', 'the directive #set'],
    ['#foreach($k in $input.params().keySet())$k#end', 'the directive #foreach'],
    ['## a comment', 'the directive ##'],
    ['{"q": "$util.escapeJavaScript($input.params(\'q\'))"}', 'the reference $util.escapeJavaScript'],
    ["$input.json('$')", 'the reference $input.json'],
    ['$input.body', 'the reference $input.body'],
    ["$context.authorizer.claims.get('x')", 'the reference $context.authorizer.claims.get'],
  ])('%s: %s', (template, logic) => {
    expect(templateLogic(template)).toBe(logic);
  });
});
