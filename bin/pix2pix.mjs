#!/usr/bin/env node
// The installed package runs the compiled CLI in dist/. A source checkout (src/ present, no build
// needed) runs the TypeScript directly through tsx, so an edit never meets a stale build.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
await main(process.argv.slice(2));
