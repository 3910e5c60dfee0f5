// SAMP 1.3 through its Web Profile: the page registers with the hub on this computer
// (http://127.0.0.1:21012/, XML-RPC; the hub asks its user to accept the page), sends the
// results table to TOPCAT (table.load.votable), an image to Aladin (image.load.fits) or the
// sky view's HiPS survey (Aladin's script.aladin.send), and receives tables others send
// (table.load.votable), fetched through the hub's URL translator when they are elsewhere.
import { XmlRpcFault, methodCall, readResponse } from "./xmlrpc.js";

export const HUB = "http://127.0.0.1:21012/"; // SAMP 1.3 sec. 5.2: the Web Profile's fixed port
const NAME = "dalserver portal";

export class SampLink {
  constructor({ connect, status, target, sendTable, sendImage, sendHips, onTable, title }) {
    Object.assign(this, { connect, status, target, sendTable, sendImage, sendHips, onTable, title });
    this.key = null;
    this.translator = null;
    this.clients = new Map(); // id -> {name, subscriptions}
    this.polling = false;
    connect.addEventListener("click", () => (this.key ? this.disconnect() : this.register()));
    // Leaving the page unregisters it (keepalive: the request outlives the page).
    window.addEventListener("pagehide", () => {
      if (!this.key) return;
      const body = methodCall("samp.webhub.unregister", [this.key]);
      fetch(HUB, { method: "POST", headers: { "Content-Type": "text/xml" }, body, keepalive: true }).catch(() => {});
    });
    this.render();
  }

  async call(method, ...params) {
    let response;
    try {
      response = await fetch(HUB, { method: "POST", headers: { "Content-Type": "text/xml" }, body: methodCall(`samp.webhub.${method}`, params) });
    } catch {
      throw new Error("no SAMP hub answers on this computer: start TOPCAT or Aladin (they run one), then connect");
    }
    return readResponse(await response.text());
  }

  say(text) {
    this.status.textContent = text;
  }

  async register() {
    this.say("Asking the SAMP hub: accept the portal in the hub's window (TOPCAT's or Aladin's)…");
    this.connect.disabled = true;
    try {
      const answer = await this.call("register", { "samp.name": NAME });
      this.key = answer["samp.private-key"];
      this.self = answer["samp.self-id"];
      this.translator = answer["samp.url-translator"] || null;
      await this.call("declareMetadata", this.key, {
        "samp.name": NAME,
        "samp.description.text": `The portal of ${this.title}: send its tables and images to TOPCAT and Aladin`,
        "samp.documentation.url": new URL(".", document.baseURI).href,
      });
      await this.call("allowReverseCallbacks", this.key, "1");
      await this.call("declareSubscriptions", this.key, {
        "table.load.votable": {},
        "samp.app.ping": {},
        "samp.hub.event.register": {},
        "samp.hub.event.unregister": {},
        "samp.hub.event.metadata": {},
        "samp.hub.event.subscriptions": {},
        "samp.hub.event.shutdown": {},
      });
      await this.listClients();
      this.sayConnected();
      this.poll();
    } catch (error) {
      this.key = null;
      this.say(error instanceof XmlRpcFault ? `The SAMP hub refused: ${error.message}` : error.message);
    }
    this.connect.disabled = false;
    this.render();
  }

  async disconnect() {
    const key = this.key;
    this.key = null;
    this.clients.clear();
    this.render();
    await this.call("unregister", key).catch(() => {});
    this.say("Disconnected from the SAMP hub.");
  }

  async listClients() {
    const ids = await this.call("getRegisteredClients", this.key);
    const clients = new Map();
    for (const id of ids) {
      const [meta, subscriptions] = await Promise.all([this.call("getMetadata", this.key, id), this.call("getSubscriptions", this.key, id)]);
      clients.set(id, { name: meta["samp.name"] || id, subscriptions: Object.keys(subscriptions || {}) });
    }
    this.clients = clients;
    this.render();
  }

  /** Callbacks arrive by polling (the Web Profile's pullCallbacks); a hub that answers at once
   * when there is nothing (astropy's) is asked again a second later. */
  async poll() {
    if (this.polling) return;
    this.polling = true;
    while (this.key) {
      const asked = performance.now();
      let callbacks = [];
      try {
        callbacks = await this.call("pullCallbacks", this.key, "10");
      } catch (error) {
        if (this.key) this.say(`Lost the SAMP hub: ${error.message}`);
        this.key = null;
        this.clients.clear();
        this.render();
        break;
      }
      for (const callback of callbacks || []) await this.handle(callback).catch((error) => this.say(error.message));
      if (!callbacks?.length && performance.now() - asked < 1000) await new Promise((r) => setTimeout(r, 1000));
    }
    this.polling = false;
  }

  async handle(callback) {
    const method = callback["samp.methodName"];
    const params = callback["samp.params"] || [];
    if (method === "receiveNotification") return this.received(params[0], params[1]);
    if (method === "receiveCall") {
      const [sender, msgId, message] = params;
      let response = { "samp.status": "samp.ok", "samp.result": {} };
      try {
        await this.received(sender, message);
      } catch (error) {
        response = { "samp.status": "samp.error", "samp.error": { "samp.errortxt": error.message } };
      }
      return this.call("reply", this.key, msgId, response);
    }
    return null;
  }

  async received(sender, message) {
    const mtype = message["samp.mtype"];
    if (mtype.startsWith("samp.hub.event.")) {
      if (mtype === "samp.hub.event.shutdown") {
        this.key = null;
        this.clients.clear();
        this.say("The SAMP hub has shut down.");
        this.render();
      } else {
        await this.listClients();
        this.sayConnected();
      }
      return;
    }
    if (mtype === "table.load.votable") {
      const params = message["samp.params"] || {};
      const from = this.clients.get(sender)?.name || sender;
      const url = params.url;
      const sameOrigin = new URL(url, document.baseURI).origin === window.location.origin;
      const fetched = sameOrigin || !this.translator ? url : `${this.translator}${encodeURIComponent(url)}`;
      const response = await fetch(fetched);
      if (!response.ok) throw new Error(`the table ${url} sent by ${from} could not be read (${response.status})`);
      await this.onTable(await response.text(), { from, name: params.name || url, url });
      this.say(`Received the table ${params.name || url} from ${from}.`);
    }
  }

  receivers(mtype) {
    return [...this.clients].filter(([id, c]) => id !== this.self && c.subscriptions.some((s) => s === mtype || (s.endsWith("*") && mtype.startsWith(s.slice(0, -1)))));
  }

  /** Send ``message`` to the chosen client, or to every client subscribed to it. */
  async send(message, what) {
    const mtype = message["samp.mtype"];
    const chosen = this.target.value;
    const receivers = this.receivers(mtype).filter(([id]) => !chosen || id === chosen);
    if (!receivers.length) {
      this.say(`No SAMP client${chosen ? " chosen" : ""} takes ${what} (${mtype}): start TOPCAT or Aladin.`);
      return;
    }
    for (const [id] of receivers) await this.call("notify", this.key, id, message);
    this.say(`Sent ${what} to ${receivers.map(([, c]) => c.name).join(", ")}.`);
  }

  table(url, name) {
    return this.send({ "samp.mtype": "table.load.votable", "samp.params": { url, "table-id": url, name } }, `the table ${name}`);
  }

  image(url, id, name) {
    return this.send({ "samp.mtype": "image.load.fits", "samp.params": { url, "image-id": id, name } }, `the image ${name}`);
  }

  hips(url, view) {
    const script = `load ${url}${view ? `\n${view.ra.toFixed(6)} ${view.dec.toFixed(6)}\nzoom ${(view.fov * 60).toFixed(2)}arcmin` : ""}`;
    return this.send({ "samp.mtype": "script.aladin.send", "samp.params": { script } }, `the survey ${url}`);
  }

  render() {
    const on = Boolean(this.key);
    this.connect.textContent = on ? "Disconnect SAMP" : "Connect to SAMP";
    this.connect.setAttribute("aria-pressed", String(on));
    const chosen = this.target.value;
    const options = [new Option("every client that takes it", "")];
    for (const [id, client] of this.clients) if (id !== this.self) options.push(new Option(client.name, id));
    this.target.replaceChildren(...options);
    if ([...this.clients.keys()].includes(chosen)) this.target.value = chosen;
    this.target.disabled = !on;
    for (const button of [this.sendTable, this.sendImage, this.sendHips]) button.disabled = !on || button.dataset.ready !== "true";
    if (!on && !this.status.textContent) {
      this.say("SAMP sends tables and images to TOPCAT and Aladin running on this computer.");
    }
  }

  sayConnected() {
    const names = [...this.clients].filter(([id]) => id !== this.self).map(([, c]) => c.name);
    this.say(`Connected to the SAMP hub${names.length ? `; clients: ${names.join(", ")}` : ""}.`);
  }

  /** Whether each send button has something to send (the buttons stay off until connected). */
  ready({ table, image, hips }) {
    this.sendTable.dataset.ready = String(Boolean(table));
    this.sendImage.dataset.ready = String(Boolean(image));
    this.sendHips.dataset.ready = String(Boolean(hips));
    this.render();
  }
}
