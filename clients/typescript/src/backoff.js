// Reconnect delays: exponential with full jitter, so that a restarted server is not met
// by every client at the same instant.

export class Backoff {
  /**
   * @param {{ initialMs?: number, maxMs?: number, random?: () => number }} [options]
   */
  constructor(options = {}) {
    this.initialMs = options.initialMs ?? 500;
    this.maxMs = options.maxMs ?? 30_000;
    this.random = options.random ?? Math.random;
    this.attempt = 0;
  }

  /** The delay before the next attempt (0 for the first one after a success). */
  next() {
    const n = this.attempt++;
    if (n === 0) return 0;
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** (n - 1));
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  /** After a connection that worked: the next drop reconnects at once. */
  reset() {
    this.attempt = 0;
  }
}
