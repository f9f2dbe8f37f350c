// A bundler macro (imported `with { type: "macro" }`): runs when the server is transpiled, by
// `bun run` and by `bun build --compile` alike, so the page is inside the single executable.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type PageBundle = { html: string; contentSecurityPolicy: string };

/**
 * The page as one self-contained HTML document (`bun build --compile --target=browser`: its
 * script and styles inlined), and a Content-Security-Policy that allows exactly those inline
 * blocks by hash, and connections to this origin only.
 */
export function pageBundle(): PageBundle {
  const entry = new URL("../page/index.html", import.meta.url).pathname;
  const out = mkdtempSync(join(tmpdir(), "mongo-feed-page-"));
  try {
    // Bun.build cannot run inside a macro (the bundler waits for it); its CLI can.
    const build = Bun.spawnSync([process.execPath, "build", "--compile", "--target=browser", "--minify", entry, `--outdir=${out}`], {
      stdout: "pipe",
      stderr: "pipe",
    });
    if (build.exitCode !== 0) throw new Error(`could not bundle the page: ${build.stderr.toString()}`);
    const html = readFileSync(join(out, "index.html"), "utf8");
    const hashes = (tag: string) =>
      [...html.matchAll(new RegExp(`<${tag}[^>]*>([\\s\\S]*?)</${tag}>`, "g"))]
        .flatMap((match) => match.slice(1)) // each match's one group: the element's text
        .map((text) => `'sha256-${new Bun.CryptoHasher("sha256").update(text).digest("base64")}'`);
    const contentSecurityPolicy = [
      "default-src 'none'",
      `script-src ${hashes("script").join(" ")}`,
      `style-src ${hashes("style").join(" ")}`,
      "connect-src 'self'",
      "img-src 'self' data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; ");
    return { html, contentSecurityPolicy };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
