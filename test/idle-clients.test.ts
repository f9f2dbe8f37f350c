// Defends: a dead peer is found by pings and released, and it costs the others nothing.
import { expect, test } from "bun:test";
import { FeedClient } from "./support/feed-client.ts";
import { useMongo } from "./support/harness.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { postJson, startTestFeed } from "./support/test-feed.ts";

const mongo = useMongo();

test("a peer that stops answering pings is released after the idle timeout, and the others carry on", async () => {
  await using feed = await startTestFeed(mongo.uri(uniqueDatabase("idle")), { WS_IDLE_TIMEOUT_SECONDS: "5", LOG_LEVEL: "debug" });
  const lively = await FeedClient.connect(feed.ws);
  // A real client in a process frozen with SIGSTOP: its socket stays open but nothing answers.
  const frozen = Bun.spawn(["bun", new URL("./support/stalled-client-fixture.ts", import.meta.url).pathname, feed.ws], { stdout: "pipe" });
  const reader = frozen.stdout.getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toContain('"open"');
  const connections = async () => ((await (await fetch(`${feed.http}/health/ready`)).json()) as { connections: number }).connections;
  expect(await connections()).toBe(2);
  process.kill(frozen.pid, "SIGSTOP");
  try {
    await feed.observed.next("socket-closed", undefined, 20_000);
    expect(await connections()).toBe(1);
    // The lively client kept answering pings (Bun's client does) and still gets posts.
    expect((await postJson(feed.http, { author: "a", content: "still here" })).status).toBe(201);
    await lively.untilInserts(1);
  } finally {
    frozen.kill("SIGKILL");
  }
  lively.close();
}, 30_000);
