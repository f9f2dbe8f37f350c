import { afterAll, beforeAll } from "bun:test";
import { type Browser, chromium } from "playwright-core";
import { ensureChromium } from "./chromium.ts";

/**
 * One headless Debian chromium for a test file (installed when missing, never a downloaded browser),
 * launched before its tests and closed after them. The flags keep a root, sandbox-less, offline
 * machine quiet: no background connections to Google's hosts.
 */
export function useBrowser(): { readonly browser: Browser } {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: ensureChromium(),
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  }, 600_000);
  afterAll(async () => {
    await browser?.close();
  });
  return {
    get browser() {
      if (!browser) throw new Error("useBrowser: the browser starts in beforeAll; use it inside tests");
      return browser;
    },
  };
}
