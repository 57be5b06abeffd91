'use strict';
// One Lambda function's execution environment on a worker thread of `entra-authorizer start`: it loads the
// handler from the function's asset folder once (the init phase), then answers each invocation the server
// posts. Plain CommonJS, so that it runs unchanged from the repository and from the package.
const { readFileSync, existsSync } = require('node:fs');
const Module = require('node:module');
const { dirname, join, resolve, sep } = require('node:path');
const { pathToFileURL } = require('node:url');
const { parentPort, workerData } = require('node:worker_threads');

/** `src/app.handler` -> the module `src/app` and the export path `handler`, as Lambda's Node.js runtime splits it. */
function splitHandler(handler) {
  const slash = handler.lastIndexOf('/');
  const dot = handler.indexOf('.', slash + 1);
  if (dot === -1) throw new Error(`Bad handler ${handler}: expected <module>.<export>`);
  return { modulePath: handler.slice(0, dot), exportPath: handler.slice(dot + 1).split('.') };
}

/** The package type that governs `file` within the asset folder (a package.json above it is the user's app's, not Lambda's). */
function isModuleScope(root, file) {
  for (let dir = dirname(file); dir.startsWith(root); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, 'utf8')).type === 'module';
    if (dir === root) break;
  }
  return false;
}

/**
 * Every `.js` file of the asset folder that no package.json within it makes an ES module loads as CommonJS,
 * as in Lambda, where no package.json of the user's app lies above /var/task: the handler, and the files it
 * `require`s later (the authorizer's decide.js, hints.js), which Node would otherwise judge by the app's
 * package.json (`"type": "module"`). This thread runs one function, so the hook is its own.
 */
function loadAssetJsAsLambdaDoes(root) {
  const js = Module._extensions['.js'];
  Module._extensions['.js'] = function (module, file) {
    if (file.startsWith(`${root}${sep}`) && !isModuleScope(root, file)) {
      return module._compile(readFileSync(file, 'utf8'), file);
    }
    return js.call(this, module, file);
  };
}

async function loadModule(root, modulePath) {
  for (const extension of ['.js', '.mjs', '.cjs']) {
    const file = resolve(root, `${modulePath}${extension}`);
    if (!existsSync(file)) continue;
    if (extension === '.mjs' || (extension === '.js' && isModuleScope(root, file))) {
      return import(pathToFileURL(file).href);
    }
    // CommonJS compiled directly: in Lambda no package.json of the user's app lies above /var/task.
    const module = new Module(file, null);
    module.filename = file;
    module.paths = Module._nodeModulePaths(dirname(file));
    module._compile(readFileSync(file, 'utf8'), file);
    return module.exports;
  }
  throw new Error(`Cannot find module '${modulePath}' in ${root} (tried .js, .mjs, .cjs)`);
}

async function loadHandler() {
  if ((process.env.NODE_OPTIONS ?? '').includes('--enable-source-maps')) process.setSourceMapsEnabled(true);
  const { modulePath, exportPath } = splitHandler(workerData.handler);
  loadAssetJsAsLambdaDoes(resolve(workerData.dir));
  let target = await loadModule(workerData.dir, modulePath);
  for (const name of exportPath) target = target == null ? undefined : target[name];
  if (typeof target !== 'function') {
    throw new Error(`${workerData.handler} is undefined or not exported`);
  }
  return target;
}

function context(requestId) {
  const deadline = Date.now() + workerData.timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: workerData.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:${workerData.functionName}`,
    memoryLimitInMB: String(workerData.memorySize),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${workerData.functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

/** A handler's answer, async or through the callback of a three-argument handler. */
function invoke(handler, event, requestId) {
  return new Promise((done, fail) => {
    const callback = (error, result) => (error ? fail(error) : done(result));
    const returned = handler(event, context(requestId), callback);
    if (returned !== undefined && typeof returned.then === 'function') returned.then(done, fail);
    else if (handler.length < 3) done(returned);
  });
}

function errorOf(err) {
  return err instanceof Error
    ? { name: err.name, message: err.message, stack: err.stack }
    : { name: 'Error', message: typeof err === 'string' ? err : JSON.stringify(err) };
}

loadHandler().then(
  (handler) => {
    parentPort.on('message', ({ id, event }) => {
      invoke(handler, event, id).then(
        // Lambda serializes the answer as JSON.
        (result) =>
          parentPort.postMessage({ id, ok: true, result: JSON.parse(JSON.stringify(result ?? null)) }),
        (err) => parentPort.postMessage({ id, ok: false, error: errorOf(err) }),
      );
    });
    parentPort.postMessage({ ready: true });
  },
  (err) => parentPort.postMessage({ ready: false, error: errorOf(err) }),
);
