/**
 * The library for `require('ctxdiff')`: the same exports as index.ts (the ES module), loaded with Node's
 * require(esm) (Node >= 20.19 or 22.12). `import` loads index.js directly.
 */
export * from './index.js';
