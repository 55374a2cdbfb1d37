// The unary half of the SDK: every service of proto/ as a stock connect-es client over the
// Connect protocol, with the access token attached and refreshed once when it expires.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { fromBinary } from "@bufbuild/protobuf";
import { AdminService, AuthService, SessionService } from "../gen/switchboard/v1/auth_pb.js";
import { ErrorSchema } from "../gen/switchboard/v1/common_pb.js";
import { ContactService } from "../gen/switchboard/v1/contacts_pb.js";
import { ConversationService } from "../gen/switchboard/v1/conversations_pb.js";
import { ExpressionService } from "../gen/switchboard/v1/expressions_pb.js";
import { FileService } from "../gen/switchboard/v1/files_pb.js";
import { InviteService } from "../gen/switchboard/v1/invites_pb.js";
import { MessageService } from "../gen/switchboard/v1/messages_pb.js";
import { SearchService } from "../gen/switchboard/v1/search_pb.js";
import { ServerService } from "../gen/switchboard/v1/server_pb.js";
import { SignalService } from "../gen/switchboard/v1/signals_pb.js";
import { SpaceService } from "../gen/switchboard/v1/spaces_pb.js";
import { SyncService } from "../gen/switchboard/v1/sync_pb.js";
import { ThreadService } from "../gen/switchboard/v1/threads_pb.js";
import { UserService } from "../gen/switchboard/v1/users_pb.js";

/**
 * A session's tokens as the client keeps them.
 * @typedef {{ accessToken: string, refreshToken: string }} Tokens
 */

/**
 * @typedef {object} SwitchboardOptions
 * @property {string} baseUrl The server's address (`https://chat.example.com`; in a page
 *   served by the server, `location.origin`).
 * @property {Tokens | null} [tokens] Tokens of a session signed in before.
 * @property {(tokens: Tokens | null) => void} [onTokens] Called whenever the tokens change
 *   (sign-in, refresh, sign-out), to persist them; `null` once the session is gone.
 * @property {boolean} [binary] Protobuf bodies instead of JSON (default true).
 * @property {typeof globalThis.fetch} [fetch] A fetch implementation (default: the global).
 */

/** The methods that need no token (a refresh must not recurse into itself). */
const ANONYMOUS = new Set(["Register", "Login", "Refresh", "GetServerInfo"]);

/**
 * The error detail the server attaches to every Connect error (reason, field, retry hint).
 * @param {unknown} err
 * @returns {{ code: Code, message: string, reason: string, field: string, retryAfterMs: number }}
 */
export function errorInfo(err) {
  const e = ConnectError.from(err);
  let reason = "";
  let field = "";
  let retryAfterMs = 0;
  for (const d of e.details) {
    if ("type" in d && d.type === "switchboard.v1.Error") {
      const detail = fromBinary(ErrorSchema, d.value);
      reason = detail.reason;
      field = detail.field;
      retryAfterMs = Number(detail.retryAfterMs);
    }
  }
  return { code: e.code, message: e.rawMessage, reason, field, retryAfterMs };
}

/**
 * Connects to a server. The returned object holds one client per service (`auth`,
 * `users`, `messages`, ...), the session's tokens, and `signIn`/`signOut`.
 * @param {SwitchboardOptions} options
 */
export function createSwitchboard(options) {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  /** @type {Tokens | null} */
  let tokens = options.tokens ?? null;
  /** @type {Promise<Tokens | null> | null} */
  let refreshing = null;
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);

  const setTokens = (/** @type {Tokens | null} */ t) => {
    tokens = t;
    options.onTokens?.(t);
  };

  /** @type {import("@connectrpc/connect").Interceptor} */
  const authorize = (next) => async (req) => {
    if (ANONYMOUS.has(req.method.name)) return next(req);
    const sent = tokens?.accessToken;
    if (sent) req.header.set("Authorization", `Bearer ${sent}`);
    try {
      return await next(req);
    } catch (err) {
      // An expired access token: refresh once (shared by concurrent calls) and retry.
      if (!sent || ConnectError.from(err).code !== Code.Unauthenticated) throw err;
      const fresh = await refresh(sent);
      if (!fresh) throw err;
      req.header.set("Authorization", `Bearer ${fresh.accessToken}`);
      return next(req);
    }
  };

  const transport = createConnectTransport({
    baseUrl,
    useBinaryFormat: options.binary ?? true,
    interceptors: [authorize],
    fetch: fetchImpl,
  });

  const api = {
    auth: createClient(AuthService, transport),
    sessions: createClient(SessionService, transport),
    admin: createClient(AdminService, transport),
    server: createClient(ServerService, transport),
    users: createClient(UserService, transport),
    contacts: createClient(ContactService, transport),
    conversations: createClient(ConversationService, transport),
    messages: createClient(MessageService, transport),
    search: createClient(SearchService, transport),
    expressions: createClient(ExpressionService, transport),
    signals: createClient(SignalService, transport),
    spaces: createClient(SpaceService, transport),
    invites: createClient(InviteService, transport),
    threads: createClient(ThreadService, transport),
    files: createClient(FileService, transport),
    sync: createClient(SyncService, transport),
  };

  /**
   * Rotates the tokens; concurrent callers share one Refresh. Resolves to the new tokens,
   * or null when the session is gone (the tokens are then cleared).
   * @param {string} [expired] The access token that failed; a refresh already done since is reused.
   * @returns {Promise<Tokens | null>}
   */
  function refresh(expired) {
    if (tokens && expired && tokens.accessToken !== expired) return Promise.resolve(tokens);
    if (!refreshing) {
      const current = tokens;
      refreshing = (async () => {
        if (!current) return null;
        try {
          const res = await api.auth.refresh({ refreshToken: current.refreshToken });
          if (!res.tokens) return null;
          const next = { accessToken: res.tokens.accessToken, refreshToken: res.tokens.refreshToken };
          setTokens(next);
          return next;
        } catch (err) {
          if (ConnectError.from(err).code === Code.Unauthenticated) setTokens(null);
          return null;
        }
      })().finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  return {
    ...api,
    baseUrl,
    fetch: fetchImpl,
    /** The current tokens, or null when signed out. */
    get tokens() {
      return tokens;
    },
    /** Keeps the tokens of a Register or Login answer. @param {{ accessToken: string, refreshToken: string } | undefined} t */
    signIn(t) {
      if (!t) throw new Error("the answer carries no tokens");
      setTokens({ accessToken: t.accessToken, refreshToken: t.refreshToken });
    },
    /**
     * Ends the session on the server (best effort) and forgets the tokens. With `{ local:
     * true }` only forgets them: for a session the server already ended (close code 4001).
     * @param {{ local?: boolean }} [opts]
     */
    async signOut(opts = {}) {
      try {
        if (tokens && !opts.local) await api.auth.logout({});
      } finally {
        setTokens(null);
      }
    },
    refresh,
  };
}

/** @typedef {ReturnType<typeof createSwitchboard>} Switchboard */
