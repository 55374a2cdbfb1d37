// Sign in and registration.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { humanError } from "./errors.js";

/** @param {{ app: import("./state.js").AppState, then: string }} props */
export function AuthScreen({ app, then }) {
  const [mode, setMode] = useState(/** @type {"login" | "register"} */ ("login"));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  /** @param {SubmitEvent} e */
  const submit = async (e) => {
    e.preventDefault();
    const form = new FormData(/** @type {HTMLFormElement} */ (e.target));
    const username = String(form.get("username") ?? "").trim();
    const password = String(form.get("password") ?? "");
    setBusy(true);
    setError("");
    try {
      const device = { name: navigator.userAgent.slice(0, 60), platform: "web" };
      const r =
        mode === "login"
          ? await app.sb.auth.login({ username, password, device })
          : await app.sb.auth.register({ username, password, displayName: String(form.get("displayName") ?? "").trim(), device });
      await app.signedInWith(r.tokens);
      if (then) history.replaceState(null, "", then);
      dispatchEvent(new PopStateEvent("popstate"));
    } catch (err) {
      setError(humanError(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="auth">
    <form class="card" onSubmit=${submit} aria-labelledby="auth-title">
      <h1 id="auth-title">${mode === "login" ? "Sign in to Switchboard" : "Create an account"}</h1>
      <label>Username <input name="username" autocomplete="username" required minlength="1" autofocus /></label>
      ${mode === "register" && html`<label>Display name <input name="displayName" autocomplete="name" /></label>`}
      <label>Password <input name="password" type="password" autocomplete=${mode === "login" ? "current-password" : "new-password"} required /></label>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <button type="submit" class="primary" disabled=${busy}>${mode === "login" ? "Sign in" : "Register"}</button>
      <button type="button" class="link" onClick=${() => { setMode(mode === "login" ? "register" : "login"); setError(""); }}>
        ${mode === "login" ? "No account? Register" : "Have an account? Sign in"}
      </button>
    </form>
  </div>`;
}
