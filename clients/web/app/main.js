// The web client: routing, the layout and the connection banner. State lives in
// state.js; each screen in its own module.
import { html, render } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { AppState } from "./state.js";
import { AuthScreen } from "./auth.js";
import { Sidebar } from "./sidebar.js";
import { ChatView } from "./chat.js";
import { InviteScreen } from "./invite.js";
import { SettingsScreen } from "./settings.js";
import { SpaceAdmin } from "./admin.js";
import { humanError } from "./errors.js";

const app = new AppState();

/** The route of a path: `/c/<id>`, `/invite/<code>`, `/settings`, `/s/<space>/admin`. */
function route(/** @type {string} */ path) {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "c" && parts[1]) return { view: "chat", id: parts[1], thread: parts[3] ?? "" };
  if (parts[0] === "invite" && parts[1]) return { view: "invite", id: parts[1], thread: "" };
  if (parts[0] === "settings") return { view: "settings", id: "", thread: "" };
  if (parts[0] === "s" && parts[1] && parts[2] === "admin") return { view: "admin", id: parts[1], thread: "" };
  return { view: "home", id: "", thread: "" };
}

/** Goes to a path of the app without reloading. @param {string} path */
export function go(path) {
  if (location.pathname !== path) history.pushState(null, "", path);
  dispatchEvent(new PopStateEvent("popstate"));
}

function useApp() {
  const [, set] = useState(0);
  useEffect(() => app.subscribe(() => set((n) => n + 1)), []);
  return app;
}

function Banner() {
  const a = useApp();
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const on = () => {
      setOnline(true);
      a.events?.reconnectNow();
    };
    const off = () => setOnline(false);
    addEventListener("online", on);
    addEventListener("offline", off);
    return () => {
      removeEventListener("online", on);
      removeEventListener("offline", off);
    };
  }, []);
  const text = !online
    ? "Offline — messages you send will wait"
    : a.status === "connecting"
      ? "Reconnecting…"
      : a.status === "catching-up"
        ? "Catching up…"
        : "";
  return html`<div class=${`banner ${text ? "shown" : ""}`} role="status" aria-live="polite" data-status=${online ? a.status : "offline"}>${text}</div>`;
}

function App() {
  const a = useApp();
  const [r, setRoute] = useState(() => route(location.pathname));
  const [error, setError] = useState("");
  const [sidebarOpen, setSidebarOpen] = useState(true);
  useEffect(() => {
    const pop = () => setRoute(route(location.pathname));
    addEventListener("popstate", pop);
    return () => removeEventListener("popstate", pop);
  }, []);
  useEffect(() => {
    if (a.signedIn && !a.me) a.load().catch((e) => setError(humanError(e)));
  }, [a.signedIn]);
  useEffect(() => {
    if (!a.loaded) return;
    const id = r.view === "chat" ? r.id : "";
    if (id !== a.openId) void a.open(id);
    setSidebarOpen(r.view === "home");
  }, [r.view, r.id, a.loaded]);
  useEffect(() => {
    const vis = () => {
      if (!document.hidden && a.openId) void a.markRead(a.openId);
      if (!document.hidden) a.events?.reconnectNow();
    };
    document.addEventListener("visibilitychange", vis);
    return () => document.removeEventListener("visibilitychange", vis);
  }, []);
  useEffect(() => {
    // Ctrl+K (or ⌘K) finds a chat; Alt+↑/↓ moves to the previous/next chat of the list.
    const keys = (/** @type {KeyboardEvent} */ e) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") {
        const filter = document.querySelector('input[aria-label="Filter chats"]');
        if (filter instanceof HTMLInputElement) {
          e.preventDefault();
          filter.focus();
          filter.select();
        }
      } else if (e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
        const rows = [...document.querySelectorAll(".panel .rows a.row")];
        const at = rows.findIndex((r) => r.getAttribute("aria-current") === "page");
        const next = rows[at + (e.key === "ArrowDown" ? 1 : -1)] ?? rows[e.key === "ArrowDown" ? 0 : rows.length - 1];
        const href = next?.getAttribute("href");
        if (href) {
          e.preventDefault();
          go(href);
        }
      }
    };
    addEventListener("keydown", keys);
    return () => removeEventListener("keydown", keys);
  }, []);
  useEffect(() => {
    const theme = localStorage.getItem("switchboard.theme");
    if (theme) document.documentElement.dataset.theme = theme;
  }, []);

  if (!a.signedIn) return html`<${AuthScreen} app=${a} then=${r.view === "invite" ? location.pathname : ""} />`;
  if (!a.loaded) {
    return html`<div class="loading" role="status">${error ? html`<p>${error}</p><button onClick=${() => a.signOut()}>Sign out</button>` : "Loading…"}</div>`;
  }
  let main;
  if (r.view === "chat") main = html`<${ChatView} app=${a} id=${r.id} thread=${r.thread} onBack=${() => setSidebarOpen(true)} />`;
  else if (r.view === "invite") main = html`<${InviteScreen} app=${a} code=${r.id} />`;
  else if (r.view === "settings") main = html`<${SettingsScreen} app=${a} />`;
  else if (r.view === "admin") main = html`<${SpaceAdmin} app=${a} spaceId=${r.id} />`;
  else main = html`<div class="empty-main"><p>Pick a chat, or start one with <strong>New</strong>.</p></div>`;
  return html`<div class=${`layout ${sidebarOpen ? "sidebar-open" : ""}`}>
    <${Banner} />
    <${Sidebar} app=${a} current=${r.view === "chat" ? r.id : ""} />
    <main class="main">${main}</main>
  </div>`;
}

const root = document.getElementById("app");
if (root) render(html`<${App} />`, root);
