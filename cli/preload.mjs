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
await import('tsx/esm');
