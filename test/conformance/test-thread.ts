/** A test-runner "thread": an async queue that runs scheduled operations in order, beside the test's own. */
export class TestThread {
  private queue: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;

  /** Schedules `work` after what is already queued; returns at once. After a failure, later work is dropped. */
  run(work: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.failure) return;
      try {
        await work();
      } catch (error) {
        this.failure = { error };
      }
    });
  }

  /** Resolves once everything queued has run; rejects with the first operation's failure. */
  async finish(): Promise<void> {
    await this.queue;
    if (this.failure) throw this.failure.error;
  }
}
