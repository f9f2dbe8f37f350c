// Defends issue 18 in a real browser (Debian's chromium): new EventSource("/feed") receives the feed, and its own reconnect with Last-Event-ID, landing on another instance, misses nothing and repeats nothing; behind a proxy that refuses the upgrade the live page falls back to SSE by itself and shows it.
import { expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { useBrowser } from "./support/browser.ts";
import { listAll } from "./support/feed-view.ts";
import { useMongo } from "./support/harness.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { PostWriter } from "./support/post-writer.ts";
import { TcpProxy } from "./support/tcp-proxy.ts";
import { connectDriver, postJson, startTestFeed } from "./support/test-feed.ts";
import { UpgradeRefusingProxy } from "./support/upgrade-refusing-proxy.ts";

const mongo = useMongo();
const chrome = useBrowser();

type Received = { data: string; lastEventId: string };

/** Opens `new EventSource(path)` in the page; what it receives is kept in `window.received`. */
async function openEventSource(page: Page, path: string): Promise<void> {
  await page.evaluate(async (url) => {
    const scope = globalThis as unknown as { received: Received[]; opens: number; EventSource: new (url: string) => EventTarget };
    scope.received = [];
    scope.opens = 0;
    const source = new scope.EventSource(url);
    source.addEventListener("open", () => scope.opens++);
    source.addEventListener("message", (event) => {
      const { data, lastEventId } = event as unknown as Received;
      scope.received.push({ data, lastEventId });
    });
    await new Promise((resolve) => source.addEventListener("open", resolve, { once: true }));
  }, path);
}

const received = (page: Page) => page.evaluate(() => (globalThis as unknown as { received: Received[] }).received);
const insertedIds = (events: Received[]) =>
  events.flatMap((event) => {
    const frame = JSON.parse(event.data) as { type: string; post?: { id: string } };
    return frame.type === "insert" ? [frame.post!.id] : [];
  });
/** Resolves once the page's EventSource got `count` inserts. */
const receivedInserts = (page: Page, count: number) =>
  page.waitForFunction(
    (wanted) =>
      (globalThis as unknown as { received: Received[] }).received.filter((event) => event.data.startsWith('{"type":"insert"')).length >=
      wanted,
    count,
    { timeout: 30_000 },
  );

test('new EventSource("/feed") receives each post with its position as lastEventId', async () => {
  await using server = await startTestFeed(mongo.uri(uniqueDatabase("browser_sse")));
  const page = await chrome.browser.newPage();
  // A page of the server's origin that is not the live page: its own client would open streams too.
  await page.goto(`${server.http}/health/live`);
  await openEventSource(page, "/feed");
  const { id } = (await (await postJson(server.http, { author: "ada", content: "to the browser" })).json()) as { id: string };
  await receivedInserts(page, 1);
  const [event] = await received(page);
  const frame = JSON.parse(event!.data) as { type: string; position: string; post: { id: string } };
  expect(frame).toMatchObject({ type: "insert", post: { id } });
  expect(event!.lastEventId).toBe(frame.position);
  await page.close();
});

test("EventSource's own reconnect with Last-Event-ID lands on another instance and misses nothing, repeats nothing", async () => {
  const uri = mongo.uri(uniqueDatabase("browser_sse_move"));
  await using driver = await connectDriver(uri);
  await using a = await startTestFeed(uri);
  await using b = await startTestFeed(uri);
  const first = new URL(a.http);
  using proxy = new TcpProxy({ hostname: first.hostname, port: Number(first.port) });
  const page = await chrome.browser.newPage();
  // A page of that origin that is not the live page: its own client would open streams too.
  await page.goto(`http://127.0.0.1:${proxy.port}/health/live`);
  await openEventSource(page, "/feed");

  const writer = new PostWriter(driver.db().collection("posts"), 150);
  await writer.written(50);
  const second = new URL(b.http);
  proxy.target = { hostname: second.hostname, port: Number(second.port) };
  await a.close(); // the stream ends (a 1001 close frame); EventSource reconnects by itself, to b
  const ids = await writer.done;
  await receivedInserts(page, ids.length);
  const events = await received(page);
  expect(insertedIds(events)).toEqual(ids);
  expect(JSON.parse(events.find((event) => event.data.startsWith('{"type":"close"'))!.data)).toEqual({
    type: "close",
    code: 1001,
    reason: "server shutting down",
  });
  expect(await page.evaluate(() => (globalThis as unknown as { opens: number }).opens)).toBe(2);
  expect(b.observed.of("event-stream-opened")).toHaveLength(1);
  await page.close();
}, 60_000);

test("behind a proxy that refuses the upgrade, the live page falls back to Server-Sent Events and shows every post", async () => {
  await using server = await startTestFeed(mongo.uri(uniqueDatabase("browser_fallback")));
  using proxy = new UpgradeRefusingProxy(server.http);
  const page = await chrome.browser.newPage();
  await page.goto(proxy.url);
  await page.locator('[data-testid="state"][data-state="live"]').waitFor();
  expect(await page.locator('[data-testid="transport"]').getAttribute("data-transport")).toBe("sse");
  expect(await page.locator('[data-testid="transport"]').textContent()).toBe("Server-Sent Events");
  await page.fill('input[name="author"]', "ada");
  await page.fill('textarea[name="content"]', "through a proxy without WebSockets");
  await page.click('button[type="submit"]');
  await page.locator('[data-testid="post"] .content', { hasText: "through a proxy without WebSockets" }).waitFor();
  const { view } = await listAll(server.http);
  expect(await page.locator('[data-testid="post"]').count()).toBe(view.size);
  expect(proxy.refusedUpgrades).toBeGreaterThanOrEqual(1);
  await page.close();
}, 60_000);
