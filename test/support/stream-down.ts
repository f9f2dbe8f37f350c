import { failPoint } from "./fail-point.ts";
import { connectDriver, type TestFeed } from "./test-feed.ts";

/** Every getMore and resume aggregate of the feed server loses its connection until disposed. */
export async function holdStreamDown(uri: string, feed: TestFeed): Promise<AsyncDisposable> {
  const down = feed.observed.next("stream-down");
  await using stack = new AsyncDisposableStack();
  const driver = stack.use(await connectDriver(uri));
  stack.use(
    await failPoint(driver, {
      mode: "alwaysOn",
      data: { failCommands: ["getMore", "aggregate"], closeConnection: true, appName: "mongo-feed" },
    }),
  );
  await down;
  return stack.move(); // disposed in reverse: the fail point goes off, then the driver closes
}
