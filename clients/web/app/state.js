// The client's state: a snapshot loaded at sign-in (GetState, ListConversations,
// ListMySpaces), then kept current by the event stream. Views read it and re-render on
// `changed`; nothing here touches the DOM except desktop notifications.
import { EventClient, Positions, createSwitchboard } from "@switchboard/sdk";
import { ConversationKind } from "@switchboard/sdk/gen/conversations_pb.js";
import { EntityKind, HistoryDirection } from "@switchboard/sdk/gen/messages_pb.js";
import { humanError } from "./errors.js";
import { parseMarkup } from "./format.js";

/**
 * @typedef {import("@switchboard/sdk/gen/common_pb.js").User} User
 * @typedef {import("@switchboard/sdk/gen/conversations_pb.js").ConversationView} ConversationView
 * @typedef {import("@switchboard/sdk/gen/messages_pb.js").Message} Message
 * @typedef {import("@switchboard/sdk/gen/spaces_pb.js").Space} Space
 * @typedef {import("@switchboard/sdk/gen/signals_pb.js").Presence} Presence
 * @typedef {import("@switchboard/sdk/gen/sync_pb.js").Event} Event
 * @typedef {import("@switchboard/sdk/gen/files_pb.js").File} SbFile
 * @typedef {{ items: Message[], hasMoreBefore: boolean, loading: boolean }} History
 * @typedef {{ clientKey: string, text: string, replyTo: string, fileIds: string[], state: "sending" | "failed", error: string, createdAt: number,
 *   important: boolean, silent: boolean, onlineOnly: boolean, noLinkPreview: boolean }} Pending
 * @typedef {import("@switchboard/sdk").Switchboard} Switchboard
 */

const TOKENS_KEY = "switchboard.tokens";
const PAGE = 50;
/** Messages kept per conversation in memory beyond what is on screen. */
const KEEP = 2000;

/** @param {bigint} a @param {bigint} b */
const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

export class AppState {
  /** @type {EventClient | null} */
  events = null;
  /** @type {User | null} */
  me = null;
  /** @type {import("@switchboard/sdk/gen/server_pb.js").GetServerInfoResponse | null} */
  server = null;
  /** @type {import("@switchboard/sdk").EventClient["status"] | "offline"} */
  status = "connecting";
  /** @type {Map<string, User>} */
  users = new Map();
  /** @type {Map<string, Presence>} */
  presence = new Map();
  /** @type {Map<string, ConversationView>} */
  convs = new Map();
  /** @type {Map<string, Space>} */
  spaces = new Map();
  /** @type {Map<string, History>} */
  history = new Map();
  /** @type {Map<string, Map<string, number>>} conversation -> user -> expires at (ms) */
  typing = new Map();
  /** @type {Map<string, Map<string, bigint>>} conversation -> member -> read watermark */
  reads = new Map();
  /** @type {Map<string, Pending[]>} */
  pending = new Map();
  /** @type {Map<string, Message[]>} online-only messages seen while the page is open */
  online = new Map();
  /** @type {Map<string, number>} conversation -> the latest of its reads in flight */
  refreshing = new Map();
  /** @type {Set<string>} ids of my saved messages (the latest 200; the list pages the rest) */
  saved = new Set();
  /** @type {Map<string, import("@switchboard/sdk/gen/messages_pb.js").ScheduledMessage[]>} my scheduled messages per chat */
  scheduled = new Map();
  /** @type {Map<string, import("@switchboard/sdk/gen/contacts_pb.js").Contact>} my contacts by user id */
  contacts = new Map();
  /** @type {{ incoming: import("@switchboard/sdk/gen/contacts_pb.js").FriendRequest[], outgoing: import("@switchboard/sdk/gen/contacts_pb.js").FriendRequest[] }} waiting friend requests */
  friendRequests = { incoming: [], outgoing: [] };
  /** @type {Set<string>} whom I blocked */
  blocked = new Set();
  /** @type {Map<number, import("@switchboard/sdk/gen/users_pb.js").PrivacyRule>} my privacy rules, by setting */
  privacy = new Map();
  /** @type {Map<string, import("@switchboard/sdk/gen/expressions_pb.js").CustomEmoji[]>} space -> its custom emoji */
  emoji = new Map();
  /** @type {string} the conversation on screen */
  openId = "";
  /** @type {Set<string>} users whose presence this connection follows */
  followed = new Set();
  loaded = false;

  constructor() {
    const saved = localStorage.getItem(TOKENS_KEY);
    this.sb = createSwitchboard({
      baseUrl: location.origin,
      tokens: saved ? JSON.parse(saved) : null,
      onTokens: (t) => {
        if (t) localStorage.setItem(TOKENS_KEY, JSON.stringify(t));
        else {
          localStorage.removeItem(TOKENS_KEY);
          if (this.me) this.reset();
        }
      },
    });
    /** @type {Set<() => void>} */
    this.listeners = new Set();
    this.reset();
  }

  reset() {
    this.events?.stop();
    this.events = null;
    this.me = null;
    this.server = null;
    this.status = "connecting";
    this.users = new Map();
    this.presence = new Map();
    this.convs = new Map();
    this.spaces = new Map();
    this.history = new Map();
    this.typing = new Map();
    this.reads = new Map();
    this.pending = new Map();
    this.online = new Map();
    this.openId = "";
    this.loaded = false;
    this.changed();
  }

  /** @param {() => void} fn */
  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  changed() {
    this.version = (this.version ?? 0) + 1;
    for (const fn of this.listeners) fn();
  }

  get signedIn() {
    return this.sb.tokens !== null;
  }

  /** After Register or Login. @param {{ accessToken: string, refreshToken: string } | undefined} tokens */
  async signedInWith(tokens) {
    this.sb.signIn(tokens);
    await this.load();
  }

  /** @param {{ local?: boolean }} [opts] local: the server already ended the session */
  async signOut(opts = {}) {
    await this.sb.signOut(opts).catch(() => {});
    this.reset();
  }

  /** Loads the snapshot and opens the event stream. */
  async load() {
    const [info, mine] = await Promise.all([
      this.sb.server.getServerInfo({ client: "switchboard-web/0.1.0" }),
      this.sb.users.getMe({}),
    ]);
    this.server = info;
    const me = mine.user ?? null;
    this.me = me;
    if (me) this.users.set(me.id, me);
    const positions = await this.snapshot();
    this.loaded = true;
    this.events = new EventClient({
      switchboard: this.sb,
      positions,
      onEvent: (e) => this.apply(e),
      onStatus: (s) => {
        this.status = s;
        if (s === "ended") void this.signOut({ local: true });
        if (s === "live") this.afterCatchUp();
        this.changed();
      },
      onResync: () => this.snapshot(),
    });
    this.events.start();
    this.changed();
  }

  /** The state as the server has it now; returns its positions. */
  async snapshot() {
    const state = await this.sb.sync.getState({});
    /** @type {Map<string, ConversationView>} */
    const convs = new Map();
    let cursor = "";
    do {
      const page = await this.sb.conversations.listConversations({ cursor, limit: 200 });
      for (const c of page.conversations) if (c.conversation) convs.set(c.conversation.id, c);
      cursor = page.nextCursor;
    } while (cursor);
    this.convs = convs;
    const spaces = await this.sb.spaces.listMySpaces({});
    this.spaces = new Map(spaces.spaces.map((s) => [s.id, s]));
    this.history = new Map();
    const saved = await this.sb.messages.listSavedMessages({ limit: 100 }).catch(() => null);
    this.saved = new Set((saved?.saved ?? []).map((s) => s.message?.id ?? ""));
    await this.loadContacts();
    await this.needUsers([...convs.values()].flatMap((c) => [c.conversation?.peerUserId ?? "", c.lastMessage?.senderId ?? ""]));
    if (this.openId && convs.has(this.openId)) void this.loadLatest(this.openId);
    this.changed();
    return Positions.fromState(state);
  }

  afterCatchUp() {
    if (this.openId) void this.markRead(this.openId);
    // Subscriptions belong to the connection: follow everyone again on each new one.
    this.followed = new Set();
    this.followPresence([...this.convs.values()].map((c) => c.conversation?.peerUserId ?? ""));
  }

  /** Follows the presence of the people not followed yet (direct chats' peers). @param {string[]} ids */
  followPresence(ids) {
    const fresh = [...new Set(ids)].filter((id) => id && id !== this.me?.id && !this.followed.has(id)).slice(0, 500);
    if (!fresh.length || this.status !== "live") return;
    for (const id of fresh) this.followed.add(id);
    this.sb.signals
      .subscribePresence({ userIds: fresh })
      .then((r) => {
        for (const p of r.presences) this.presence.set(p.userId, p);
        this.changed();
      })
      .catch(() => {
        for (const id of fresh) this.followed.delete(id);
      });
  }

  /** Fetches the profiles not known yet. @param {string[]} ids */
  async needUsers(ids) {
    const missing = [...new Set(ids.filter((id) => id && !this.users.has(id)))];
    for (let i = 0; i < missing.length; i += 100) {
      const r = await this.sb.users.getUsers({ userIds: missing.slice(i, i + 100) });
      for (const u of r.users) this.users.set(u.id, u);
    }
    if (missing.length) this.changed();
  }

  /** Reads one profile again, as I may see it. @param {string} id */
  async reloadUser(id) {
    if (id === this.me?.id) {
      const r = await this.sb.users.getMe({});
      if (r.user) this.me = r.user;
      if (r.user) this.users.set(id, r.user);
    } else {
      const r = await this.sb.users.getUsers({ userIds: [id] });
      for (const u of r.users) this.users.set(u.id, u);
    }
    this.changed();
  }

  /** My privacy rules, by setting. */
  async loadPrivacy() {
    const r = await this.sb.users.getPrivacySettings({});
    this.privacy = new Map(r.rules.map((x) => [x.setting, x]));
    this.changed();
  }

  /** Replaces my rule for one setting. @param {import("@switchboard/sdk/gen/users_pb.js").PrivacyRule} rule */
  async setPrivacy(rule) {
    const r = await this.sb.users.updatePrivacySettings({ rules: [rule] });
    this.privacy = new Map(r.rules.map((x) => [x.setting, x]));
    this.changed();
  }

  /** A person's name as I see it: my remark for them, else their display name. @param {string} id */
  userName(id) {
    const remark = this.contacts.get(id)?.remark;
    if (remark) return remark;
    const u = this.users.get(id);
    if (!u) return "…";
    return u.displayName || u.username;
  }

  /** My contacts, every page, with their accounts. */
  async loadContacts() {
    const contacts = new Map();
    let cursor = "";
    do {
      const page = await this.sb.contacts.listContacts({ cursor, limit: 500 });
      for (const c of page.contacts) contacts.set(c.userId, c);
      for (const u of page.users) this.users.set(u.id, u);
      cursor = page.nextCursor;
    } while (cursor);
    this.contacts = contacts;
    const blocked = new Set();
    cursor = "";
    do {
      const page = await this.sb.contacts.listBlockedUsers({ cursor, limit: 500 });
      for (const b of page.blocked) blocked.add(b.userId);
      for (const u of page.users) this.users.set(u.id, u);
      cursor = page.nextCursor;
    } while (cursor);
    this.blocked = blocked;
    await this.loadFriendRequests();
  }

  /** Blocks or unblocks someone. @param {string} userId @param {boolean} block */
  async setBlocked(userId, block) {
    if (block) await this.sb.contacts.blockUser({ userId });
    else await this.sb.contacts.unblockUser({ userId });
    if (block) this.blocked.add(userId);
    else this.blocked.delete(userId);
    this.changed();
  }

  /** The friend requests waiting, both ways, with the accounts. */
  async loadFriendRequests() {
    const [incoming, outgoing] = await Promise.all([
      this.sb.contacts.listFriendRequests({ incoming: true }),
      this.sb.contacts.listFriendRequests({ incoming: false }),
    ]);
    for (const u of [...incoming.users, ...outgoing.users]) this.users.set(u.id, u);
    this.friendRequests = { incoming: incoming.requests, outgoing: outgoing.requests };
    this.changed();
  }

  /** Adds someone to my contacts, or changes my remark and notes. @param {string} userId @param {string} remark @param {string} notes */
  async putContact(userId, remark, notes) {
    const r = await this.sb.contacts.addContact({ userId, remark, notes });
    if (r.contact) this.contacts.set(userId, r.contact);
    this.changed();
  }

  /** Takes someone off my contacts. @param {string} userId */
  async removeContact(userId) {
    await this.sb.contacts.removeContact({ userId });
    this.contacts.delete(userId);
    this.changed();
  }

  /** Opens (making it if need be) my direct chat with someone; its id. @param {string} userId */
  async directWith(userId) {
    const r = await this.sb.conversations.createDirect({ userId });
    const c = r.conversation;
    if (c?.conversation) this.convs.set(c.conversation.id, c);
    this.changed();
    return c?.conversation?.id ?? "";
  }

  /** A conversation's title as shown (a direct chat: the peer's name). @param {ConversationView | undefined} c */
  title(c) {
    const conv = c?.conversation;
    if (!conv) return "";
    if (conv.kind === ConversationKind.DIRECT) {
      return conv.peerUserId === this.me?.id ? "Notes to self" : this.userName(conv.peerUserId);
    }
    return conv.title || "Untitled";
  }

  /** Chats for the list: not space channels, threads or space logs; pinned first, then by activity. */
  chatList() {
    return [...this.convs.values()]
      .filter((c) => {
        const k = c.conversation?.kind;
        return k === ConversationKind.DIRECT || k === ConversationKind.GROUP || k === ConversationKind.CHANNEL;
      })
      .sort((a, b) => {
        const pa = a.settings?.pinned ? 1 : 0;
        const pb = b.settings?.pinned ? 1 : 0;
        if (pa !== pb) return pb - pa;
        return Number((b.conversation?.lastActivityAtMs ?? 0n) - (a.conversation?.lastActivityAtMs ?? 0n));
      });
  }

  /** The history of a conversation, loading its latest page the first time. @param {string} id */
  historyOf(id) {
    let h = this.history.get(id);
    if (!h) {
      h = { items: [], hasMoreBefore: true, loading: false };
      this.history.set(id, h);
      void this.loadLatest(id);
    }
    return h;
  }

  /** @param {string} id */
  async loadLatest(id) {
    const h = this.history.get(id) ?? { items: [], hasMoreBefore: true, loading: false };
    this.history.set(id, h);
    await this.pageBefore(id, h, 0n, PAGE);
  }

  /** The page before the oldest message loaded. @param {string} id */
  async loadOlder(id) {
    const h = this.history.get(id);
    if (!h || h.loading || !h.hasMoreBefore) return;
    const first = h.items[0];
    if (!first) return this.loadLatest(id);
    await this.pageBefore(id, h, first.seq, PAGE * 2);
  }

  /** One page of history before `anchor` (0: the latest) into `h`. @param {string} id @param {History} h @param {bigint} anchor @param {number} limit */
  async pageBefore(id, h, anchor, limit) {
    h.loading = true;
    this.changed();
    try {
      const r = await this.sb.messages.getHistory({ conversationId: id, direction: HistoryDirection.BEFORE, anchorSeq: anchor, limit });
      this.merge(id, r.messages);
      h.hasMoreBefore = r.hasMore;
      await this.needUsers(r.messages.map((m) => m.senderId));
    } finally {
      h.loading = false;
      this.changed();
    }
  }

  /** Puts messages into a history by seq (idempotent). @param {string} id @param {Message[]} messages */
  merge(id, messages) {
    const h = this.history.get(id);
    if (!h) return;
    const bySeq = new Map(h.items.map((m) => [m.seq, m]));
    for (const m of messages) bySeq.set(m.seq, m);
    h.items = [...bySeq.values()].sort((a, b) => cmp(a.seq, b.seq));
    if (h.items.length > KEEP && this.openId !== id) {
      h.items = h.items.slice(-KEEP);
      h.hasMoreBefore = true;
    }
  }

  /** Opens a conversation (loads it when it is new to us). @param {string} id */
  async open(id) {
    this.openId = id;
    if (id && !this.convs.has(id)) {
      const r = await this.sb.conversations.getConversation({ conversationId: id }).catch(() => null);
      if (r?.conversation?.conversation) this.convs.set(id, r.conversation);
    }
    if (id) {
      this.historyOf(id);
      void this.markRead(id);
      void this.loadReads(id);
      this.followPresence([this.convs.get(id)?.conversation?.peerUserId ?? ""]);
    }
    this.changed();
  }

  /** Members' watermarks, for "seen by". @param {string} id */
  async loadReads(id) {
    const r = await this.sb.conversations.listMembers({ conversationId: id, limit: 200 }).catch(() => null);
    if (!r) return;
    const m = new Map(r.members.map((x) => [x.userId, x.readSeq]));
    this.reads.set(id, m);
    await this.needUsers(r.members.map((x) => x.userId));
    this.changed();
  }

  /** @param {string} id */
  async markRead(id) {
    const c = this.convs.get(id);
    if (!c?.conversation || document.hidden) return;
    const last = c.conversation.lastSeq;
    if (last <= c.readSeq) return;
    c.readSeq = last;
    c.unreadCount = 0;
    c.importantCount = 0;
    c.mentionCount = 0;
    this.changed();
    await this.sb.messages.markRead({ conversationId: id, seq: last }).catch(() => {});
  }

  /** Sends a message; it shows at once and stays (with a retry) if the send fails. @param {string} id @param {{ text: string, replyTo?: string, fileIds?: string[], important?: boolean, silent?: boolean, onlineOnly?: boolean, noLinkPreview?: boolean }} draft */
  send(id, draft) {
    /** @type {Pending} */
    const p = {
      clientKey: crypto.randomUUID(),
      text: draft.text,
      replyTo: draft.replyTo ?? "",
      fileIds: draft.fileIds ?? [],
      important: !!draft.important,
      noLinkPreview: !!draft.noLinkPreview,
      silent: !!draft.silent,
      onlineOnly: !!draft.onlineOnly,
      state: "sending",
      error: "",
      createdAt: Date.now(),
    };
    const list = this.pending.get(id) ?? [];
    list.push(p);
    this.pending.set(id, list);
    this.changed();
    return this.deliver(id, p);
  }

  /** (Re)sends a pending message with its client key: a retry is never a duplicate. @param {string} id @param {Pending} p */
  async deliver(id, p) {
    p.state = "sending";
    p.error = "";
    this.changed();
    const { text, entities } = parseMarkup(p.text);
    try {
      const r = await this.sb.messages.sendMessage({
        conversationId: id,
        clientKey: p.clientKey,
        text: {
          text,
          entities: [...entities, ...this.mentionEntities(id, text), ...this.emojiEntities(id, text)],
          attachments: p.fileIds.map((fileId) => ({ fileId })),
        },
        replyToMessageId: p.replyTo,
        important: p.important,
        silent: p.silent,
        onlineOnly: p.onlineOnly,
        noLinkPreview: p.noLinkPreview,
      });
      if (r.message && p.onlineOnly) this.onlineMessage(r.message);
      else if (r.message) this.received(r.message);
    } catch (err) {
      p.state = "failed";
      p.error = humanError(err);
      this.changed();
    }
  }

  /** Mentions typed as @username (and @all) become entities. @param {string} id @param {string} text */
  mentionEntities(id, text) {
    /** @type {{ kind: EntityKind, offset: number, length: number, userId?: string }[]} */
    const out = [];
    const members = this.reads.get(id);
    for (const m of text.matchAll(/@([\p{L}\p{N}_.-]+)/gu)) {
      const name = m[1].toLowerCase();
      const offset = utf16ToCodepoints(text, m.index ?? 0);
      const length = [...m[0]].length;
      if (name === "all" || name === "everyone") {
        out.push({ kind: EntityKind.MENTION_ALL, offset, length });
        continue;
      }
      for (const u of this.users.values()) {
        if (u.username.toLowerCase() === name && (!members || members.has(u.id))) {
          out.push({ kind: EntityKind.MENTION, offset, length, userId: u.id });
          break;
        }
      }
    }
    return out;
  }

  /** The space a conversation belongs to ("" outside spaces). @param {string} id */
  spaceOf(id) {
    return this.convs.get(id)?.conversation?.spaceId ?? "";
  }

  /** A space's custom emoji: known ones now, loaded once in the background. @param {string} spaceId */
  emojiOf(spaceId) {
    if (!spaceId) return [];
    const known = this.emoji.get(spaceId);
    if (known) return known;
    this.emoji.set(spaceId, []);
    this.sb.expressions.listCustomEmoji({ spaceId })
      .then((r) => {
        this.emoji.set(spaceId, r.emoji);
        this.changed();
      })
      .catch(() => this.emoji.delete(spaceId));
    return [];
  }

  /** The custom emoji of the conversation's space typed as :name: become entities. @param {string} id @param {string} text */
  emojiEntities(id, text) {
    const list = this.emojiOf(this.spaceOf(id));
    /** @type {{ kind: EntityKind, offset: number, length: number, customEmojiId: string }[]} */
    const out = [];
    if (list.length === 0) return out;
    for (const m of text.matchAll(/:([a-z0-9_]{2,32}):/g)) {
      const e = list.find((x) => x.name === m[1]);
      if (e) out.push({ kind: EntityKind.CUSTOM_EMOJI, offset: utf16ToCodepoints(text, m.index ?? 0), length: m[0].length, customEmojiId: e.id });
    }
    return out;
  }

  /** The sticker packs usable in a conversation: the server's, then its space's. @param {string} id */
  async stickerPacks(id) {
    const space = this.spaceOf(id);
    const [server, own] = await Promise.all([
      this.sb.expressions.listStickerPacks({}),
      space ? this.sb.expressions.listStickerPacks({ spaceId: space }) : Promise.resolve({ packs: [] }),
    ]);
    return [...server.packs, ...own.packs];
  }

  /** Sends a sticker. @param {string} id @param {string} packId @param {string} stickerId */
  async sendSticker(id, packId, stickerId) {
    const r = await this.sb.messages.sendMessage({ conversationId: id, clientKey: crypto.randomUUID(), stickerPackId: packId, stickerId });
    if (r.message) this.received(r.message);
  }

  /** A message arrived (an event or our own send's answer). @param {Message} m */
  received(m) {
    const id = m.conversationId;
    const list = this.pending.get(id);
    if (list && m.clientKey) {
      const rest = list.filter((p) => p.clientKey !== m.clientKey);
      if (rest.length !== list.length) this.pending.set(id, rest);
    }
    const h = this.history.get(id);
    if (h) this.merge(id, [m]);
    const waiting = this.scheduled.get(id);
    if (waiting && m.clientKey && waiting.some((s) => s.clientKey === m.clientKey)) {
      this.scheduled.set(id, waiting.filter((s) => s.clientKey !== m.clientKey));
    }
    const c = this.convs.get(id);
    // A conversation still being read (just joined): read it again, with this message.
    if (!c && this.refreshing.has(id)) void this.refreshConversation(id);
    if (c?.conversation) {
      if (m.seq > c.conversation.lastSeq) {
        c.conversation.lastSeq = m.seq;
        c.conversation.lastActivityAtMs = m.createdAtMs;
        c.lastMessage = m;
        const mine = m.senderId === this.me?.id;
        if (mine) {
          c.readSeq = m.seq;
        } else if (m.content.case === "text" || m.content.case === "sticker") {
          if (this.openId === id && !document.hidden) void this.markRead(id);
          else {
            c.unreadCount += 1;
            if (m.important) c.importantCount += 1;
            if (this.mentionsMe(m)) c.mentionCount += 1;
            this.notify(c, m);
          }
        }
      } else if (c.lastMessage?.seq === m.seq) {
        c.lastMessage = m;
      }
    }
    void this.needUsers([m.senderId]);
    this.changed();
  }

  /**
   * A message changed (an edit or a reaction, from an event). Events carry the counts but
   * not which reactions are mine: those stay as they were, except the one `own` changed.
   * @param {Message} m @param {{ emoji: string, customEmojiId: string, added: boolean }} [own]
   */
  updated(m, own) {
    const id = m.conversationId;
    const before = this.history.get(id)?.items.find((x) => x.id === m.id);
    const mine = new Set((before?.reactions ?? []).filter((r) => r.mine).map(reactionKey));
    if (own) own.added ? mine.add(reactionKey(own)) : mine.delete(reactionKey(own));
    for (const r of m.reactions) r.mine = mine.has(reactionKey(r));
    if (this.history.get(id)) this.merge(id, [m]);
    const c = this.convs.get(id);
    if (c?.lastMessage?.id === m.id) c.lastMessage = m;
    this.changed();
  }

  /**
   * Adds my reaction, or takes it back when I have it: a Unicode emoji, or (with `emoji`
   * empty) a custom emoji of the space.
   * @param {Message} m @param {string} emoji @param {string} [customEmojiId]
   */
  async toggleReaction(m, emoji, customEmojiId = "") {
    const key = reactionKey({ emoji, customEmojiId });
    const had = m.reactions.some((r) => r.mine && reactionKey(r) === key);
    const req = { conversationId: m.conversationId, messageId: m.id, emoji, customEmojiId };
    const r = had ? await this.sb.messages.removeReaction(req) : await this.sb.messages.addReaction(req);
    if (r.message && this.history.get(m.conversationId)) this.merge(m.conversationId, [r.message]);
    this.changed();
  }

  /** Saves a message, or takes it off my saved messages. @param {Message} m */
  async toggleSaved(m) {
    const req = { conversationId: m.conversationId, messageId: m.id };
    if (this.saved.has(m.id)) {
      await this.sb.messages.unsaveMessage(req);
      this.saved.delete(m.id);
    } else {
      await this.sb.messages.saveMessage(req);
      this.saved.add(m.id);
    }
    this.changed();
  }

  /** My scheduled messages in a chat, soonest first. @param {string} id */
  scheduledIn(id) {
    return this.scheduled.get(id) ?? [];
  }

  /** @param {string} id */
  async loadScheduled(id) {
    const r = await this.sb.messages.listScheduledMessages({ conversationId: id }).catch(() => null);
    if (r) this.scheduled.set(id, r.scheduled);
    this.changed();
  }

  /** Keeps a message to send at `at` (ms). @param {string} id @param {string} body @param {number} at */
  async schedule(id, body, at) {
    const { text, entities } = parseMarkup(body);
    await this.sb.messages.scheduleMessage({
      conversationId: id,
      clientKey: crypto.randomUUID(),
      text: { text, entities: [...entities, ...this.mentionEntities(id, text)] },
      sendAtMs: BigInt(at),
    });
    await this.loadScheduled(id);
  }

  /** Opens my notes-to-self conversation (made on first use). */
  async notesToSelf() {
    const r = await this.sb.conversations.createDirect({ userId: this.me?.id ?? "" });
    const c = r.conversation;
    if (c?.conversation) this.convs.set(c.conversation.id, c);
    this.changed();
    return c?.conversation?.id ?? "";
  }

  /** Pins or unpins a message. @param {Message} m @param {boolean} pin */
  async setPin(m, pin) {
    const req = { conversationId: m.conversationId, messageId: m.id };
    if (pin) await this.sb.messages.pinMessage(req);
    else await this.sb.messages.unpinMessage(req);
  }

  /**
   * An online-only message: shown while the page is open, never kept. Mine settle my
   * pending copy by client key (my other devices receive the same event).
   * @param {Message} m
   */
  onlineMessage(m) {
    const id = m.conversationId;
    const list = this.pending.get(id);
    if (list && m.clientKey) this.pending.set(id, list.filter((p) => p.clientKey !== m.clientKey));
    const live = this.online.get(id) ?? [];
    if (!m.clientKey || !live.some((x) => x.clientKey === m.clientKey)) live.push(m);
    this.online.set(id, live.slice(-50));
    void this.needUsers([m.senderId]);
    this.changed();
  }

  /** @param {Message} m */
  mentionsMe(m) {
    if (m.content.case !== "text") return false;
    return m.content.value.entities.some(
      (e) => e.kind === EntityKind.MENTION_ALL || (e.kind === EntityKind.MENTION && e.userId === this.me?.id),
    );
  }

  /** A desktop notification while the tab is hidden. @param {ConversationView} c @param {Message} m */
  notify(c, m) {
    if (!document.hidden || typeof Notification === "undefined" || Notification.permission !== "granted") return;
    const muted = Number(c.settings?.mutedUntilMs ?? 0n) > Date.now();
    if (muted || m.silent || this.blocked.has(m.senderId)) return;
    const body = m.content.case === "text" ? m.content.value.text || "Attachment"
      : m.content.case === "sticker" ? `${m.content.value.emoji} Sticker` : "";
    const n = new Notification(this.title(c), { body: `${this.userName(m.senderId)}: ${body}`, tag: c.conversation?.id });
    n.onclick = () => {
      window.focus();
      location.hash = "";
      history.pushState(null, "", `/c/${c.conversation?.id}`);
      dispatchEvent(new PopStateEvent("popstate"));
    };
  }

  /** One event of the stream. @param {Event} e */
  apply(e) {
    const k = e.kind;
    switch (k.case) {
      case "messageCreated":
        this.received(k.value);
        if (k.value.content.case === "service") this.serviceMessage(k.value);
        break;
      case "messageEdited":
      case "messagePreviewed":
        this.updated(k.value);
        break;
      case "blockChanged":
        if (k.value.blocked) this.blocked.add(k.value.userId);
        else this.blocked.delete(k.value.userId);
        void this.needUsers([k.value.userId]);
        break;
      case "friendRequestChanged":
        void this.loadFriendRequests();
        break;
      case "contactChanged":
        if (k.value.contact) this.contacts.set(k.value.userId, k.value.contact);
        else this.contacts.delete(k.value.userId);
        void this.needUsers([k.value.userId]);
        break;
      case "messageSaved":
        if (k.value.saved) this.saved.add(k.value.messageId);
        else this.saved.delete(k.value.messageId);
        break;
      case "onlineMessage":
        this.onlineMessage(k.value);
        break;
      case "reactionChanged": {
        const r = k.value;
        if (r.message) this.updated(r.message, r.userId === this.me?.id ? { emoji: r.emoji, customEmojiId: r.customEmojiId, added: r.added } : undefined);
        break;
      }
      case "messageDeleted": {
        const h = this.history.get(e.conversationId);
        const m = h?.items.find((x) => x.id === k.value.messageId);
        if (m) {
          m.deleted = true;
          m.content = { case: undefined };
        }
        break;
      }
      case "conversationJoined":
        void this.refreshConversation(k.value.conversationId);
        break;
      case "conversationLeft":
        this.convs.delete(k.value.conversationId);
        this.history.delete(k.value.conversationId);
        if (this.spaces.has(k.value.conversationId)) this.spaces.delete(k.value.conversationId);
        break;
      case "readStateChanged": {
        const c = this.convs.get(k.value.conversationId);
        if (c) {
          c.readSeq = k.value.readSeq;
          if (k.value.unreadCount !== undefined) c.unreadCount = k.value.unreadCount;
          if (k.value.mentionCount !== undefined) c.mentionCount = k.value.mentionCount;
          if (c.unreadCount === 0) c.importantCount = 0;
        }
        break;
      }
      case "settingsChanged": {
        const c = this.convs.get(k.value.conversationId);
        if (c && k.value.settings) c.settings = k.value.settings;
        break;
      }
      case "historyCleared": {
        this.history.delete(k.value.conversationId);
        if (this.openId === k.value.conversationId) this.historyOf(k.value.conversationId);
        break;
      }
      case "typing": {
        const t = this.typing.get(k.value.conversationId) ?? new Map();
        if (k.value.typing) t.set(k.value.userId, Number(k.value.expiresAtMs) || Date.now() + 6000);
        else t.delete(k.value.userId);
        this.typing.set(k.value.conversationId, t);
        void this.needUsers([k.value.userId]);
        break;
      }
      case "presence":
        this.presence.set(k.value.userId, k.value);
        break;
      case "receipt": {
        const r = this.reads.get(k.value.conversationId) ?? new Map();
        r.set(k.value.userId, k.value.readSeq);
        this.reads.set(k.value.conversationId, r);
        break;
      }
      case "threadActivity": {
        const h = this.history.get(k.value.conversationId);
        const m = h?.items.find((x) => x.id === k.value.rootMessageId);
        if (m) m.thread = k.value.thread;
        break;
      }
      case "userUpdated": {
        const u = k.value.user;
        if (!u) break;
        // Partial: privacy rules hide some fields from some viewers; read my own view.
        if (k.value.partial) void this.reloadUser(u.id);
        else {
          this.users.set(u.id, u);
          if (u.id === this.me?.id) this.me = u;
        }
        break;
      }
      case "privacyChanged":
        if (k.value.rule) this.privacy.set(k.value.rule.setting, k.value.rule);
        break;
      case "fileReady":
        if (k.value.file) this.fileReady(k.value.file);
        break;
      case "joinRequested":
      case "joinRequestResolved":
      case "joinRequestDecided":
        if (k.case === "joinRequestDecided" && k.value.accepted) void this.refreshConversation(k.value.conversationId);
        break;
      default:
        break;
    }
    this.changed();
  }

  /** A space's log says its layout changed: read it again. @param {Message} m */
  serviceMessage(m) {
    const space = this.spaces.get(m.conversationId);
    const c = this.convs.get(m.conversationId);
    if (space || c?.conversation?.kind === ConversationKind.SPACE) void this.refreshSpace(m.conversationId);
    else if (c) void this.refreshConversation(m.conversationId);
  }

  /** @param {string} id */
  async refreshConversation(id) {
    // Only the latest read counts: an earlier one may have left before a message arrived.
    const turn = (this.refreshing.get(id) ?? 0) + 1;
    this.refreshing.set(id, turn);
    const r = await this.sb.conversations.getConversation({ conversationId: id }).catch(() => null);
    if (this.refreshing.get(id) !== turn) return;
    const c = r?.conversation;
    if (!c?.conversation) return;
    this.convs.set(id, c);
    if (c.conversation.kind === ConversationKind.SPACE) await this.refreshSpace(id);
    if (c.conversation.kind === ConversationKind.SPACE_CHANNEL && c.conversation.spaceId) await this.refreshSpace(c.conversation.spaceId);
    await this.needUsers([c.conversation.peerUserId]);
    this.followPresence([c.conversation.peerUserId]);
    this.changed();
  }

  /** @param {string} id */
  async refreshSpace(id) {
    const r = await this.sb.spaces.getSpace({ spaceId: id }).catch(() => null);
    if (r?.space) this.spaces.set(id, r.space);
    this.changed();
  }

  /** @param {SbFile} file */
  fileReady(file) {
    for (const h of this.history.values()) {
      for (const m of h.items) {
        if (m.content.case !== "text") continue;
        for (const a of m.content.value.attachments) if (a.fileId === file.id) a.file = file;
      }
    }
  }

  /** Users typing in a conversation now (not me). @param {string} id */
  typingIn(id) {
    const t = this.typing.get(id);
    if (!t) return [];
    const now = Date.now();
    return [...t].filter(([u, exp]) => exp > now && u !== this.me?.id).map(([u]) => u);
  }

  /** Who has read a message of mine. @param {string} id @param {Message} m */
  seenBy(id, m) {
    const r = this.reads.get(id);
    if (!r) return [];
    return [...r].filter(([u, seq]) => u !== m.senderId && seq >= m.seq).map(([u]) => u);
  }
}

/** What tells one reaction from another: its emoji, or its custom emoji. @param {{ emoji: string, customEmojiId: string }} r */
export function reactionKey(r) {
  return r.emoji || `custom:${r.customEmojiId}`;
}

/** The code-point offset of a UTF-16 index (entity offsets count code points). @param {string} s @param {number} i */
export function utf16ToCodepoints(s, i) {
  return [...s.slice(0, i)].length;
}
