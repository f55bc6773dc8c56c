// Loaded with `node --import`: TypeScript via tsx, and the one polyfill aws-local-stepfunctions needs on Node 20.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
// Locally we run on Node 20 on purpose (Lambda runs 22): the SDK's notice about that is noise in a person's terminal.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
await import('tsx/esm');
