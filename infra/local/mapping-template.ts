/**
 * API Gateway's mapping templates (Velocity Template Language), in the part the local gateway runs: plain
 * references, which API Gateway replaces by their values ("API Gateway mapping template and access logging
 * variable reference"): `$context.<name>`, `$stageVariables.<name>` and `$input.params('<name>')`, each
 * also written `$!...`, `${...}` or `$!{...}`. Anything that needs Velocity itself (a directive such as
 * `#if`, `#set` or `#foreach`, `$util`, `$input.json`/`$input.path`/`$input.body`, a method call, a variable
 * of the template's own) is logic, which the local gateway answers 501 rather than rendering differently.
 */

/** What a template's plain references read: `$context`, `$stageVariables`, `$input.params(name)`. */
interface TemplateValues {
  readonly context: (name: string) => string | undefined;
  readonly stageVariables: Readonly<Record<string, string>>;
  /** A method request parameter by name: path, then query string, then header, as `$input.params(x)`. */
  readonly param?: (name: string) => string | undefined;
}

/** Velocity's directives and comments (`#if(`, `#{else}`, `##`, `#*`), which only Velocity can run. */
const DIRECTIVE =
  /#(?:\{?(?:if|elseif|else|end|set|foreach|break|stop|macro|define|evaluate|parse|include)\b\}?|#|\*)/;

/** A name of `$context` (dotted) or `$stageVariables`; a dot not followed by a name ends it. */
const NAME = '[A-Za-z][A-Za-z0-9_-]*(?:\\.[A-Za-z][A-Za-z0-9_-]*)*';
/** A plain reference: its bare, quiet (`$!`) and formal (`${}`) forms. */
const REFERENCE = new RegExp(
  `\\$!?(?:\\{(context|stageVariables)\\.(${NAME})\\}|(context|stageVariables)\\.(${NAME})` +
    `|\\{input\\.params\\((?:'([^']*)'|"([^"]*)")\\)\\}|input\\.params\\((?:'([^']*)'|"([^"]*)")\\))`,
  'g',
);
/**
 * A reference to API Gateway's own variables that is not plain (`$util.escapeJavaScript(...)`, `$input.json`,
 * a method call or an index after a plain one). Any other `$name` is a variable nobody set, which Velocity
 * prints as written, as here.
 */
const GATEWAY_REFERENCE = /\$!?\{?(?:input|util|context|stageVariables)\b[A-Za-z0-9_.]*/;

/** Why a template needs Velocity's logic (named for the person), or undefined when it has plain references only. */
export function templateLogic(template: string): string | undefined {
  const directive = DIRECTIVE.exec(template);
  if (directive !== null) return `the directive ${directive[0]}`;
  // A plain reference followed by ( or [ is a method call or an index: logic, named as written.
  const rest = template.replace(REFERENCE, (match, ...args) => {
    const offset = args.at(-2) as number;
    return /[([]/.test(template[offset + match.length] ?? '') ? match : '';
  });
  const reference = GATEWAY_REFERENCE.exec(rest);
  return reference === null ? undefined : `the reference ${reference[0]}`;
}

/**
 * A template with its plain references replaced by their values; one without a value (an authorizer context
 * key the authorizer did not set) becomes empty, as in API Gateway. Logic is left as written: check
 * `templateLogic` first where it matters.
 */
export function renderTemplate(template: string, values: TemplateValues): string {
  return template.replace(
    REFERENCE,
    (_, formalKind, formalName, kind, name, ...params: (string | undefined)[]) => {
      const which = formalKind ?? kind;
      const variable = formalName ?? name;
      if (which === 'context') return values.context(variable) ?? '';
      if (which === 'stageVariables') return values.stageVariables[variable] ?? '';
      const param = params.slice(0, 4).find((p) => p !== undefined) ?? '';
      return values.param?.(param) ?? '';
    },
  );
}
