// Debian's nginx in front of feed instances, from deploy/nginx.conf: installed with apt-get when
// missing (as chromium is), run in the foreground from a temporary directory on a free port.
// `bun test/support/nginx.ts` installs it from CI.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDebianPackage } from "./debian-package.ts";

export const NGINX = "/usr/sbin/nginx";
const DEPLOY_CONF = new URL("../../deploy/nginx.conf", import.meta.url).pathname;

/** Makes sure /usr/sbin/nginx exists; throws with apt-get's words if it cannot be installed. */
export function ensureNginx(): string {
  return ensureDebianPackage("nginx", NGINX);
}

/** How the test config differs from the shipped one. */
export type NginxVariant =
  /** deploy/nginx.conf as shipped. */
  | "as-shipped"
  /** Without `proxy_buffering off`: nginx buffers by default, only the server's X-Accel-Buffering: no stops it. */
  | "default-buffering"
  /** The feed's location without the Upgrade and Connection headers: every WebSocket handshake fails. */
  | "no-upgrade";

/** A free port: bound on port 0, then released for nginx to take. */
async function freePort(): Promise<number> {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

/** deploy/nginx.conf with these upstreams and port, its pid, logs and temp files in `prefix`. */
export function nginxConfig(upstreams: readonly string[], port: number, prefix: string, variant: NginxVariant): string {
  let conf = readFileSync(DEPLOY_CONF, "utf8");
  const replace = (pattern: RegExp, by: string) => {
    if (!pattern.test(conf)) throw new Error(`deploy/nginx.conf no longer has ${pattern}`);
    conf = conf.replace(pattern, by);
  };
  const root = process.getuid?.() === 0 ? "user root;\n" : ""; // workers write the temp files in `prefix`
  replace(/^worker_processes .*$/m, `${root}daemon off;\nworker_processes 1;\npid ${prefix}/nginx.pid;\nerror_log stderr notice;`);
  replace(
    /^http \{$/m,
    `http {\n  access_log off;\n${["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((name) => `  ${name}_temp_path ${prefix}/${name};`).join("\n")}`,
  );
  replace(/^ *server feed:8080 (.*)$/m, upstreams.map((upstream) => `    server ${upstream} $1`).join("\n"));
  replace(/^ *listen 8080;$/m, `    listen 127.0.0.1:${port};`);
  if (variant === "default-buffering") replace(/^ *proxy_buffering off;\n/m, "");
  if (variant === "no-upgrade") {
    replace(/^ *proxy_set_header Upgrade .*\n/m, "");
    replace(/^ *proxy_set_header Connection \$connection_upgrade;\n/m, "");
  }
  return conf;
}

export type RunningNginx = AsyncDisposable & { url: string; ws: string };

/** Starts nginx in the foreground on a free port in front of `upstreams` (host:port), once it listens. */
export async function startNginx(upstreams: readonly string[], variant: NginxVariant = "as-shipped"): Promise<RunningNginx> {
  const binary = ensureNginx();
  const prefix = mkdtempSync(join(tmpdir(), "feed-nginx-"));
  const port = await freePort();
  writeFileSync(join(prefix, "nginx.conf"), nginxConfig(upstreams, port, prefix, variant));
  const nginx = Bun.spawn([binary, "-p", prefix, "-c", join(prefix, "nginx.conf")], { stdout: "ignore", stderr: "pipe" });
  // The master opens its listening sockets before it starts its workers, and says so (notice level).
  const decoder = new TextDecoder();
  const log = nginx.stderr.getReader();
  let said = "";
  while (!said.includes("start worker process")) {
    const { value, done } = await log.read();
    if (done) throw new Error(`nginx did not start: ${said}`);
    said += decoder.decode(value, { stream: true });
  }
  void (async () => {
    while (!(await log.read()).done); // keep draining its log, so nginx never blocks on it
  })();
  const stop = async () => {
    nginx.kill("SIGTERM");
    await nginx.exited;
    rmSync(prefix, { recursive: true, force: true });
  };
  return { url: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}`, [Symbol.asyncDispose]: stop };
}

if (import.meta.main) {
  console.log(`nginx: ${ensureNginx()}`);
}
