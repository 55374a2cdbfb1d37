// What a device has applied, per log: the argument of a resuming Subscribe.

/**
 * @typedef {import("../gen/switchboard/v1/sync_pb.js").Event} Event
 * @typedef {{ userSeq: string, conversations: Record<string, string> }} SavedPositions
 */

export class Positions {
  constructor() {
    /** Highest user_seq applied. */
    this.userSeq = 0n;
    /** @type {Map<string, bigint>} Highest seq applied per conversation. */
    this.conversations = new Map();
  }

  /**
   * Positions from a GetState answer (a fresh start or a resync).
   * @param {import("../gen/switchboard/v1/sync_pb.js").GetStateResponse} state
   */
  static fromState(state) {
    const p = new Positions();
    p.userSeq = state.userSeq;
    for (const c of state.conversations) p.conversations.set(c.conversationId, c.seq);
    return p;
  }

  /** @param {SavedPositions} saved */
  static fromJSON(saved) {
    const p = new Positions();
    p.userSeq = BigInt(saved.userSeq);
    for (const [c, s] of Object.entries(saved.conversations)) p.conversations.set(c, BigInt(s));
    return p;
  }

  /** @returns {SavedPositions} */
  toJSON() {
    /** @type {Record<string, string>} */
    const conversations = {};
    for (const [c, s] of this.conversations) conversations[c] = s.toString();
    return { userSeq: this.userSeq.toString(), conversations };
  }

  /**
   * Decides about one event: "apply" when it is the next of its log (the positions move
   * past it) or carries no position (ephemeral); "duplicate" when it was applied before;
   * "gap" when events before it are missing (resubscribe from these positions).
   * @param {Event} e
   * @returns {"apply" | "duplicate" | "gap"}
   */
  apply(e) {
    if (e.userSeq > 0n) {
      if (e.userSeq <= this.userSeq) return "duplicate";
      if (e.userSeq !== this.userSeq + 1n) return "gap";
      this.userSeq = e.userSeq;
      if (e.kind.case === "conversationJoined") {
        const j = e.kind.value;
        const at = this.conversations.get(j.conversationId);
        if (at === undefined || at < j.joinedAtSeq) this.conversations.set(j.conversationId, j.joinedAtSeq);
      } else if (e.kind.case === "conversationLeft") {
        this.conversations.delete(e.kind.value.conversationId);
      }
      return "apply";
    }
    if (e.seq > 0n) {
      const at = this.conversations.get(e.conversationId);
      // A conversation not known yet (its join is on the user log, which may come later):
      // the server starts it where the user joined, so its first event is taken as is.
      if (at !== undefined) {
        if (e.seq <= at) return "duplicate";
        if (e.seq !== at + 1n) return "gap";
      }
      this.conversations.set(e.conversationId, e.seq);
    }
    return "apply";
  }

  /** A Subscribe (or GetDifference) request resuming from these positions. */
  request() {
    return {
      userSeq: this.userSeq,
      positions: [...this.conversations].map(([conversationId, seq]) => ({ conversationId, seq })),
    };
  }
}
