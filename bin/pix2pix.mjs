#!/usr/bin/env node
// The installed package runs the compiled CLI in dist/. A source checkout (src/ present, no build
// needed) runs the TypeScript directly through tsx, so an edit never meets a stale build.
import { existsSync } from 'node:fs';

let main;
if (existsSync(new URL('../src/cli/main.ts', import.meta.url))) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
await main(process.argv.slice(2));
