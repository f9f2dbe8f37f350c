// Debian's chromium for the browser tests: installed with apt-get when missing (machines are new
// often), never a browser downloaded by a test tool. `bun test/support/chromium.ts` does it from CI.
import { ensureDebianPackage } from "./debian-package.ts";

export const CHROMIUM = "/usr/bin/chromium";

/** Makes sure /usr/bin/chromium exists; throws with apt-get's words if it cannot be installed. */
export function ensureChromium(): string {
  return ensureDebianPackage("chromium", CHROMIUM);
}

if (import.meta.main) {
  console.log(`chromium: ${ensureChromium()}`);
}
