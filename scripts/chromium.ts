/**
 * Launching the system Chromium (Debian's `chromium` package) with playwright-core, for the browser
 * tests and the README screenshot: no browser download, no network chatter, and WebGPU enabled on
 * Chromium's SwiftShader adapter (Vulkan on the CPU) so headless machines without a GPU have one.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** playwright adds --headless and a fresh temporary profile; --no-sandbox because CI runs as root. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader',
];

export function haveChromium(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export async function launchChromium(): Promise<Browser> {
  if (!haveChromium()) throw new Error(`${CHROMIUM_PATH} not found: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], timeout: 60_000 });
}
