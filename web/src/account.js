// Who is logged in, a login form and a logout. POST login sets the session cookie (HttpOnly: this
// module never sees it); the browser sends it with every same-origin request the portal makes,
// so after a reload the searches, previews and cutouts show what the user's groups may see.
// Logging out reloads the page too; it then says so (the note survives the reload in this tab's
// sessionStorage), so nobody wonders whether the proprietary rows are gone on purpose.

const NOTE = "dalserver-account-note";

export class Account {
  constructor(root) {
    this.root = root;
    this.show();
  }

  async show() {
    let who = null;
    try {
      const answer = await fetch("whoami", { headers: { Accept: "application/json" } });
      if (answer.ok) who = (await answer.json()).user;
      else if (answer.status === 401) who = undefined; // a session that ended: offer to log in again
    } catch {
      return; // no server: nothing to offer
    }
    this.root.replaceChildren();
    const note = sessionStorage.getItem(NOTE);
    sessionStorage.removeItem(NOTE);
    if (who) {
      const name = document.createElement("span");
      name.id = "account-user";
      name.textContent = `Logged in as ${who}`;
      const out = button("Log out", () => this.logout());
      this.root.append(name, " ", out);
    } else {
      this.root.append(this.form(who === undefined ? "Your session ended; log in again" : note || ""));
    }
  }

  form(note) {
    const form = document.createElement("form");
    form.id = "login-form";
    form.setAttribute("aria-label", "Log in");
    const user = field("username", "User", "text", "username");
    const password = field("password", "Password", "password", "current-password");
    const status = document.createElement("span");
    status.setAttribute("role", "status");
    status.textContent = note;
    const submit = document.createElement("button");
    submit.textContent = "Log in";
    form.append(...user, " ", ...password, " ", submit, " ", status);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = new URLSearchParams({ username: user[1].value, password: password[1].value });
      const answer = await fetch("login", { method: "POST", body });
      if (answer.ok) location.reload();
      else status.textContent = answer.status === 401 ? "Wrong user name or password" : `Login failed (${answer.status})`;
    });
    return form;
  }

  async logout() {
    const answer = await fetch("logout", { method: "POST" });
    if (answer.ok) sessionStorage.setItem(NOTE, "Logged out: you see public data only");
    location.reload();
  }
}

function field(name, label, type, autocomplete) {
  const text = document.createElement("label");
  text.textContent = label;
  text.htmlFor = `login-${name}`;
  const input = document.createElement("input");
  Object.assign(input, { id: `login-${name}`, name, type, autocomplete, required: true });
  return [text, input];
}

function button(text, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.addEventListener("click", action);
  return b;
}
