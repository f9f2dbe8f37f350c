// Defends: the live page at GET / works in a real browser: a post made in one page appears in another, both catch up after a server restart with nothing missing or doubled, and content is shown as text, never HTML.
import { expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import type { Page } from "playwright-core";
import { useBrowser } from "./support/browser.ts";
import { listAll } from "./support/feed-view.ts";
import { useMongo } from "./support/harness.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { PostWriter } from "./support/post-writer.ts";
import { ServerProcess } from "./support/server-process.ts";
import { TcpProxy } from "./support/tcp-proxy.ts";
import { connectDriver } from "./support/test-feed.ts";

const mongo = useMongo();
const artifacts = new URL("../test-artifacts/", import.meta.url).pathname;
const chrome = useBrowser();

/** The post ids the page shows, in order. */
const shownIds = (page: Page) =>
  page
    .locator('[data-testid="post"]')
    .evaluateAll((items) => items.map((item) => (item as unknown as { dataset: { id: string } }).dataset.id));
/** Resolves once the page shows at least (or exactly) `count` posts. */
const showing = (page: Page, count: number, exactly = false) =>
  page.waitForFunction(
    ([wanted, exact]) => {
      // Runs in the page (this file is typed without the DOM).
      const { document } = globalThis as unknown as { document: { querySelectorAll(selector: string): { length: number } } };
      const shown = document.querySelectorAll('[data-testid="post"]').length;
      return exact ? shown === wanted : shown >= wanted;
    },
    [count, exactly] as const,
    { timeout: 30_000 },
  );

test("two pages: a post made in one appears in the other, both catch up after a restart, and markup stays text", async () => {
  const uri = mongo.uri(uniqueDatabase("browser"));
  await using driver = await connectDriver(uri);
  let server = ServerProcess.spawn({ MONGODB_URI: uri });
  const first = new URL((await server.listening()).http);
  using proxy = new TcpProxy({ hostname: first.hostname, port: Number(first.port) });
  const origin = `http://127.0.0.1:${proxy.port}`;

  const context = await chrome.browser.newContext();
  const alerts: string[] = [];
  const [writer, reader] = [await context.newPage(), await context.newPage()];
  for (const page of [writer, reader]) {
    page.on("dialog", (dialog) => {
      alerts.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(origin);
    await page.locator('[data-testid="state"][data-state="live"]').waitFor();
  }

  // A post made in one page appears in the other.
  await writer.fill('input[name="author"]', "ada");
  await writer.fill('textarea[name="content"]', "hello from the first page");
  await writer.click('button[type="submit"]');
  await reader.locator('[data-testid="post"] .content', { hasText: "hello from the first page" }).waitFor();

  // Markup is text: no element is made from it, and no script runs.
  const attack = "<img src=x onerror=alert(1)>";
  await writer.fill('textarea[name="content"]', attack);
  await writer.click('button[type="submit"]');
  const shown = reader.locator('[data-testid="post"] .content', { hasText: attack });
  await shown.waitFor();
  expect(await shown.textContent()).toBe(attack);
  expect(await reader.locator('[data-testid="posts"] img').count()).toBe(0);

  // The server restarts while posts keep being written straight into MongoDB.
  const posts = new PostWriter(driver.db().collection("posts"), 120, (n) => `written during the restart ${n}`);
  await posts.written(30);
  server.kill("SIGTERM");
  expect(await server.exited).toBe(0);
  await reader.locator('[data-testid="state"][data-state="backoff"]').waitFor();
  server = ServerProcess.spawn({ MONGODB_URI: uri });
  const next = new URL((await server.listening()).http);
  proxy.target = { hostname: next.hostname, port: Number(next.port) };
  await posts.done;

  const { view } = await listAll(next.origin);
  const expected = [...view.keys()].sort().reverse();
  for (const page of [writer, reader]) {
    await showing(page, expected.length);
    const ids = await shownIds(page);
    expect(ids).toEqual(expected); // every post, once, newest first
    expect(Number(await page.locator('[data-testid="reconnects"]').textContent())).toBeGreaterThanOrEqual(1);
    expect(await page.locator('[data-testid="state"]').getAttribute("data-state")).toBe("live");
  }
  expect(alerts).toEqual([]);

  mkdirSync(artifacts, { recursive: true });
  await reader.screenshot({ path: `${artifacts}live-page.png`, fullPage: false });
  await context.close();
  server.kill("SIGTERM");
  await server.exited;
}, 90_000);

test("the page edits and deletes through the API, and both pages follow", async () => {
  const uri = mongo.uri(uniqueDatabase("browser_edit"));
  await using server = ServerProcess.spawn({ MONGODB_URI: uri });
  const { http } = await server.listening();
  const context = await chrome.browser.newContext();
  const [editor, watcher] = [await context.newPage(), await context.newPage()];
  for (const page of [editor, watcher]) {
    await page.goto(http);
    await page.locator('[data-testid="state"][data-state="live"]').waitFor();
  }
  await editor.fill('input[name="author"]', "ada");
  await editor.fill('textarea[name="content"]', "first draft");
  await editor.click('button[type="submit"]');
  const id = await editor.locator('[data-testid="post"]', { hasText: "first draft" }).getAttribute("data-id");
  const item = editor.locator(`[data-id="${id}"]`);
  await item.locator("button.edit").click();
  await item.locator("textarea").fill("final words");
  await item.getByRole("button", { name: "Save" }).click();
  await watcher.locator('[data-testid="post"] .content', { hasText: "final words" }).waitFor();
  expect(await watcher.locator('[data-testid="post"] .edited').textContent()).toStartWith("edited");

  await item.locator("button.delete").click();
  await showing(watcher, 0, true);
  expect(await watcher.locator('[data-testid="count"]').textContent()).toBe("0");

  // A refused post shows the server's words.
  await editor.fill('input[name="author"]', "");
  await editor.fill('textarea[name="content"]', "no author");
  await editor.click('button[type="submit"]');
  await editor.locator('[data-testid="error"]', { hasText: "author must not be empty" }).waitFor();
  await context.close();
}, 60_000);
