/**
 * Loads one of the authorizer's lazily loaded modules (AUTHORIZER_LAZY_MODULES, built by
 * `withLazyModules` in infra/construct/lambda-defaults.ts), given both ways of loading the same literal
 * specifier, which the bundle leaves external:
 *
 *   loadLazyModule(() => require('./tenant-parameter.js'), () => import('./tenant-parameter.js'))
 *
 * In the CommonJS bundle, `require` loads the file beside index.js (0.3 ms; `import()` would start Node's ES
 * module loader first, some 4 ms); from source (tests, `npm start` before bundling) there is no such .js
 * file and `import()` loads the TypeScript module. A module missing from the bundle rejects.
 */
export function loadLazyModule<T>(required: () => unknown, imported: () => Promise<T>): Promise<T> {
  return Promise.resolve()
    .then(() => required() as T)
    .catch(() => imported());
}
