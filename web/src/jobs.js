// The async jobs this browser started: the server has no accounts yet, so "yours" are the jobs
// whose URLs this browser remembers (localStorage). Their phases come from the UWS 1.1 job list
// (GET tap/async?AFTER=..., one request), their times and results from each job's document;
// a job the server has destroyed is forgotten. A synchronous query that has not started to
// answer after a few seconds is continued as a job, which a reload does not lose.
import { ServiceError, form, readTable, request, serviceUrl } from "./api.js";
import { queryParams } from "./tap.js";

const KEY = "dalserver.jobs";
const KEEP = 50; // jobs remembered, newest first
export const FINAL = new Set(["COMPLETED", "ERROR", "ABORTED", "ARCHIVED"]);
const ACTIVE = new Set(["QUEUED", "EXECUTING", "PENDING", "HELD", "SUSPENDED", "UNKNOWN"]);

function element(tag, attributes = {}, text = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? "" : value);
  if (text !== null) node.textContent = text;
  return node;
}

const text = (doc, name) => doc.getElementsByTagNameNS("*", name)[0]?.textContent.trim() || "";

function duration(seconds) {
  if (!Number.isFinite(seconds)) return "";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m} min ${Math.round(seconds % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Run ``query`` synchronously; if no answer has begun after ``after`` ms, stop that request
 * (which cancels its database query) and return {switched: true} for the caller to go on as
 * a job. Otherwise {answer}. */
export async function syncOrSwitch(query, maxrec, signal, after) {
  const controller = new AbortController();
  const stop = () => controller.abort();
  signal.addEventListener("abort", stop, { once: true });
  let switched = false;
  const timer = setTimeout(() => {
    switched = true;
    controller.abort();
  }, after);
  try {
    const response = await request(serviceUrl("tap/sync"), { method: "POST", body: form(queryParams(query, maxrec)), signal: controller.signal });
    clearTimeout(timer); // it answers: the rows are on their way
    return { answer: await readTable(response) };
  } catch (error) {
    if (switched && !signal.aborted) return { switched: true };
    throw error;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", stop);
  }
}

export class JobList {
  constructor({ table, status, refresh, panel, onShow }) {
    Object.assign(this, { table, status, refresh, panel, onShow });
    this.jobs = this.load();
    this.timer = null;
    refresh.addEventListener("click", () => this.update());
    window.addEventListener("storage", (event) => event.key === KEY && ((this.jobs = this.load()), this.render()));
    // Leaving the page stops its requests: the job it followed is not settled by that.
    this.leaving = false;
    window.addEventListener("pagehide", () => (this.leaving = true));
    this.render();
  }

  load() {
    try {
      const jobs = JSON.parse(localStorage.getItem(KEY) || "[]");
      return Array.isArray(jobs) ? jobs.filter((j) => j && typeof j.url === "string") : [];
    } catch {
      return [];
    }
  }

  save() {
    localStorage.setItem(KEY, JSON.stringify(this.jobs.slice(0, KEEP)));
  }

  /** A job the page has just created (``current``: the page is following it). */
  remember(url, query, maxrec) {
    for (const job of this.jobs) job.current = false;
    this.jobs.unshift({ url, id: url.split("/").pop(), query, maxrec, phase: "QUEUED", created: new Date().toISOString(), current: true });
    this.save();
    this.render();
  }

  phase(url, phase) {
    const job = this.jobs.find((j) => j.url === url);
    if (!job) return;
    job.phase = phase;
    if (FINAL.has(phase) && !job.ended) this.details(job).then(() => this.render());
    this.save();
    this.render();
  }

  /** The page shows this job's answer (or its failure): a reload need not follow it again. */
  settled(url) {
    if (this.leaving) return;
    const job = this.jobs.find((j) => j.url === url);
    if (job) (job.current = false), this.save();
  }

  /** The job the page was following when it was left, if it has not been shown yet. */
  resumable() {
    return this.jobs.find((j) => j.current) || null;
  }

  async details(job) {
    try {
      const response = await request(job.url);
      const doc = new DOMParser().parseFromString(await response.text(), "application/xml");
      job.phase = text(doc, "phase") || job.phase;
      job.created = text(doc, "creationTime") || job.created;
      job.started = text(doc, "startTime") || null;
      job.ended = text(doc, "endTime") || null;
      const result = doc.getElementsByTagNameNS("*", "result")[0];
      job.result = result ? result.getAttributeNS("http://www.w3.org/1999/xlink", "href") : null;
      job.size = result ? Number(result.getAttribute("size")) : null;
      job.error = doc.getElementsByTagNameNS("*", "errorSummary")[0] ? text(doc, "message") : null;
    } catch (error) {
      if (error instanceof ServiceError && error.status === 404) job.gone = true;
    }
  }

  /** Phases from the job list (one request); details of the jobs that changed. */
  async update() {
    clearTimeout(this.timer);
    if (!this.jobs.length) return this.render();
    const oldest = this.jobs.map((j) => Date.parse(j.created)).filter(Number.isFinite).reduce((a, b) => Math.min(a, b), Date.now());
    try {
      const after = new Date(oldest - 60_000).toISOString();
      const response = await request(serviceUrl("tap/async", { AFTER: after }));
      const doc = new DOMParser().parseFromString(await response.text(), "application/xml");
      const listed = new Map(
        [...doc.getElementsByTagNameNS("*", "jobref")].map((ref) => [ref.getAttribute("id"), ref.getElementsByTagNameNS("*", "phase")[0]?.textContent.trim()]),
      );
      const changed = this.jobs.filter((j) => !listed.has(j.id) || listed.get(j.id) !== j.phase || !j.ended || ACTIVE.has(j.phase));
      await Promise.all(changed.map((j) => this.details(j)));
      const gone = this.jobs.filter((j) => j.gone);
      this.jobs = this.jobs.filter((j) => !j.gone);
      this.save();
      this.status.textContent = gone.length ? `${gone.length} job${gone.length === 1 ? "" : "s"} past ${gone.length === 1 ? "its" : "their"} destruction time were removed by the server.` : "";
    } catch (error) {
      this.status.textContent = `The jobs could not be read: ${error.message}`;
    }
    this.render();
    if (this.jobs.some((j) => ACTIVE.has(j.phase)) && !this.panel.hidden) this.timer = setTimeout(() => this.update(), 3000);
  }

  async abort(job) {
    await request(`${job.url}/phase`, { method: "POST", body: form({ PHASE: "ABORT" }) }).catch((error) => (this.status.textContent = error.message));
    await this.update();
  }

  async remove(job) {
    await request(job.url, { method: "POST", body: form({ ACTION: "DELETE" }) }).catch((error) => {
      if (!(error instanceof ServiceError && error.status === 404)) this.status.textContent = error.message;
    });
    this.jobs = this.jobs.filter((j) => j.url !== job.url);
    this.save();
    this.render();
  }

  async show(job) {
    try {
      const answer = await readTable(await request(job.result));
      this.onShow(answer, job);
    } catch (error) {
      this.status.textContent = `The result could not be read: ${error.message}`;
    }
  }

  render() {
    const head = element("tr");
    for (const name of ["Query", "Phase", "Created", "Run time", "Result", ""]) head.append(element("th", { scope: "col" }, name));
    const rows = this.jobs.map((job) => {
      const tr = element("tr", { "data-job": job.id, "data-phase": job.phase });
      const created = job.created ? new Date(job.created) : null;
      const end = job.ended ? Date.parse(job.ended) : Date.now();
      const run = job.started ? duration((end - Date.parse(job.started)) / 1000) : "";
      tr.append(
        element("td", { class: "query", title: job.query }, job.query.replace(/\s+/g, " ").slice(0, 80)),
        element("td", { class: "phase" }, job.phase + (job.error ? `: ${job.error}` : "")),
        element("td", {}, created ? created.toLocaleString("en-GB", { dateStyle: "short", timeStyle: "medium" }) : ""),
        element("td", { class: "runtime" }, run),
      );
      const result = element("td");
      if (job.phase === "COMPLETED" && job.result) {
        const show = element("button", { type: "button", "aria-label": `Show the result of job ${job.id}` }, "Show");
        show.addEventListener("click", () => this.show(job));
        result.append(show, " ", element("a", { href: job.result, download: `job-${job.id}.json` }, "Download"));
      }
      tr.append(result);
      const actions = element("td");
      if (!FINAL.has(job.phase)) {
        const cancel = element("button", { type: "button", "aria-label": `Cancel job ${job.id}` }, "Cancel");
        cancel.addEventListener("click", () => this.abort(job));
        actions.append(cancel, " ");
      }
      const remove = element("button", { type: "button", "aria-label": `Delete job ${job.id}` }, "Delete");
      remove.addEventListener("click", () => this.remove(job));
      actions.append(remove);
      tr.append(actions);
      return tr;
    });
    this.table.replaceChildren(element("thead"), element("tbody"));
    this.table.tHead.append(head);
    this.table.tBodies[0].append(...rows);
    this.table.hidden = !this.jobs.length;
    const empty = "No jobs yet: an ADQL query run as a job (or one that takes long) appears here.";
    if (!this.jobs.length && !this.status.textContent) this.status.textContent = empty;
    else if (this.jobs.length && this.status.textContent === empty) this.status.textContent = "";
  }
}
