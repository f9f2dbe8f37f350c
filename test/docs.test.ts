// Defends: the docs cannot drift from the code. The settings table equals what config.ts declares
// (through its own --help), the close-code table equals src/protocol/close-codes.ts, every relative
// link in README.md and docs/ leads to a file (and heading) that exists, and the README keeps its front door.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { ASSUMED_HOST_LIMITS, loadConfig } from "../src/config/config.ts";
import { CloseCodes } from "../src/protocol/close-codes.ts";

const root = join(import.meta.dir, "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");
const markdownFiles = [
  "README.md",
  ...readdirSync(join(root, "docs"), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".md"))
    .map((file) => join("docs", file)),
];

/** Markdown without its fenced code blocks: what is in a fence is neither a link nor a heading. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
}

/** The body rows of the table whose header row is exactly `header`, as trimmed cells. */
function tableRows(markdown: string, header: string): string[][] {
  const lines = markdown.split("\n");
  const start = lines.indexOf(header);
  if (start === -1) throw new Error(`no table with header ${header}`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    // Cells split on pipes that are not escaped (`\|` stays inside a cell).
    rows.push(
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

/** A heading's anchor as GitHub makes it. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

function anchorsOf(markdown: string): Set<string> {
  return new Set([...prose(markdown).matchAll(/^#{1,6} (.+)$/gm)].map((match) => slug(match[1]!)));
}

describe("docs/configuration.md", () => {
  type Declared = { flag: string; env: string; fallback: string };
  const help = loadConfig({}, ["--help"], ASSUMED_HOST_LIMITS);
  if (help.kind !== "help") throw new Error("--help did not answer with help");
  // One row per setting: `  --flag  ENV  what it does (default ...)`.
  const declared: Declared[] = [...help.text.matchAll(/^ {2}--(\S+)\s+([A-Z][A-Z0-9_]*)\s+.* \(default (.*)\)$/gm)].map(
    ([, flag, env, fallback]) => ({ flag: flag!, env: env!, fallback: fallback! }),
  );
  const documented = tableRows(read("docs/configuration.md"), "| Variable | Flag | Default | Meaning |");

  test("lists every setting config.ts declares, with its flag, and nothing else", () => {
    expect(declared.length).toBeGreaterThan(20);
    const rows = documented.map(([variable, flag]) => `${variable} ${flag}`);
    expect(rows.toSorted()).toEqual(declared.map(({ env, flag }) => `\`${env}\` \`--${flag}\``).toSorted());
  });

  test("states each default as config.ts does", () => {
    const stated: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const setting of declared) {
      const cell = documented.find(([variable]) => variable === `\`${setting.env}\``)?.[2] ?? "";
      // A default that depends on the machine reads `<value here>: <rule>`; the table states the rule, then details.
      const rule = /^\S+ here: (.+)$/.exec(setting.fallback)?.[1];
      if (rule) {
        stated[setting.env] = cell.replaceAll("`", "").slice(0, rule.length);
        expected[setting.env] = rule;
      } else if (setting.fallback === "unset" || setting.fallback.includes(" ")) {
        // No default, or one in words (e.g. "60 with auth on, no limit with auth off").
        stated[setting.env] = cell.replaceAll("`", "");
        expected[setting.env] = setting.fallback;
      } else {
        stated[setting.env] = cell;
        expected[setting.env] = `\`${setting.fallback}\``;
      }
    }
    expect(stated).toEqual(expected);
  });

  test("names the flags that are not settings", () => {
    const text = read("docs/configuration.md");
    for (const flag of ["--help", "--version", "--health-check"]) expect(text).toContain(`\`${flag}\``);
  });
});

describe("docs/websocket-protocol.md", () => {
  const rows = tableRows(read("docs/websocket-protocol.md"), "| Code | Reason | Reconnect | Meaning |");

  test("has one close-code row per entry of close-codes.ts, with its reason and whether to reconnect", () => {
    const stated: Record<string, string> = {};
    const expected: Record<string, string> = {};
    const matched = new Set<string[]>();
    for (const [name, entry] of Object.entries(CloseCodes)) {
      const reason = "reason" in entry ? entry.reason : undefined;
      // An entry with a fixed reason is its row; one whose reason varies has the only row of its code without a quoted reason.
      const candidates = rows.filter(
        ([code, reasonCell]) =>
          code === String(entry.code) && (reason === undefined ? !reasonCell!.includes("`") : reasonCell === `\`${reason}\``),
      );
      for (const row of candidates) matched.add(row);
      stated[name] = candidates.map((row) => `${row[0]} reconnect: ${row[2]}`).join(", ");
      expected[name] = `${entry.code} reconnect: ${entry.reconnect ? "yes" : "no"}`;
    }
    expect(stated).toEqual(expected);
    expect(rows.filter((row) => !matched.has(row))).toEqual([]);
  });
});

describe("links", () => {
  test.each(markdownFiles)("every relative link in %s leads to a file and heading that exist", (file) => {
    const broken: string[] = [];
    for (const [, target] of prose(read(file)).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) continue; // https:, mailto:
      const [path, anchor] = target!.split("#") as [string, string | undefined];
      const resolved = path === "" ? join(root, file) : join(root, dirname(file), path);
      if (!existsSync(resolved)) {
        broken.push(`${target} (no ${relative(root, resolved)})`);
        continue;
      }
      if (anchor !== undefined && statSync(resolved).isFile() && resolved.endsWith(".md")) {
        if (!anchorsOf(readFileSync(resolved, "utf8")).has(anchor)) broken.push(`${target} (no heading #${anchor})`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe("README.md", () => {
  const readme = read("README.md");

  test("opens with the title, one paragraph, then the two commands that run the server and the tests", () => {
    const [title, , ...rest] = readme.split("\n");
    expect(title).toBe("# mongo-feed");
    // One paragraph (lines without a blank one between them), then the block.
    const block = /^(?:[^\n#`][^\n]*\n)+\n```sh\n([\s\S]*?)\n```/.exec(rest.join("\n"));
    expect(block?.[1]?.split("\n").map((line) => line.replace(/\s+#.*$/, ""))).toEqual(["bun install && bun run dev", "bun test"]);
    expect(JSON.parse(read("package.json")).scripts.dev).toBeString();
  });

  test("stays a front door: reference lives in docs/", () => {
    expect(readme.split("\n").length).toBeLessThanOrEqual(250);
  });
});
