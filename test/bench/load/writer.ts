import { MongoClient } from "mongodb";
import { benchContent, clock, type LoadSpec, type WriterSpec, type Written } from "./protocol.ts";

/** Writes post number `sequence`; resolves true once it is acknowledged (201, or the insert's acknowledgement). */
type Write = (sequence: number) => Promise<boolean>;

export type Writer = { write: Write; close(): Promise<void> };

const REQUEST_TIMEOUT_MS = 30_000;

export async function openWriter(spec: WriterSpec): Promise<Writer> {
  if (spec.kind === "post") {
    const url = `${spec.url}/posts`;
    return {
      write: async (sequence) => {
        const response = await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ author: "bench", content: benchContent(sequence) }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        await response.arrayBuffer();
        return response.status === 201;
      },
      close: async () => {},
    };
  }
  const client = await new MongoClient(spec.uri, { appName: "bench-writer" }).connect();
  const posts = client.db().collection("posts");
  return {
    write: async (sequence) => {
      await posts.insertOne({ author: "bench", content: benchContent(sequence), createdAt: new Date() });
      return true;
    },
    close: () => client.close(),
  };
}

/** Runs the load, numbering writes from `firstSequence`, and notes when each write was acknowledged. */
export async function runLoad(write: Write, load: LoadSpec, firstSequence: number): Promise<Written> {
  const acks: number[] = [];
  let sequence = firstSequence;
  let written = 0;
  let failed = 0;
  let lastAckAt = 0;
  const one = async () => {
    const mine = sequence++;
    const ok = await write(mine).catch(() => false);
    lastAckAt = clock();
    if (ok) {
      acks.push(mine, lastAckAt);
      written++;
    } else failed++;
  };
  const firstAt = clock();

  if (load.kind === "flood") {
    const end = firstAt + load.seconds * 1000;
    await Promise.all(
      Array.from({ length: load.inFlight }, async () => {
        while (clock() < end) await one();
      }),
    );
    return { written, failed, firstAt, lastAckAt, acks };
  }

  // Paced, open loop: write n is due at n / rate seconds whatever the earlier ones are doing,
  // up to maxInFlight pending (a writer that hits it can no longer keep the pace: that shows as
  // an achieved rate below the offered one).
  const total = Math.round(load.rate * load.seconds);
  const pending = new Set<Promise<void>>();
  for (let n = 0; n < total; ) {
    const now = clock();
    while (n < total && firstAt + (n * 1000) / load.rate <= now && pending.size < load.maxInFlight) {
      const write = one().finally(() => pending.delete(write));
      pending.add(write);
      n++;
    }
    if (pending.size >= load.maxInFlight) await Promise.race(pending);
    else if (n < total) await Bun.sleep(Math.max(0, firstAt + (n * 1000) / load.rate - clock()));
  }
  await Promise.all(pending);
  return { written, failed, firstAt, lastAckAt, acks };
}
