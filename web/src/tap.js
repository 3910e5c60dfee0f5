// TAP 1.1 queries: synchronous (one POST, cancelled by leaving) or asynchronous (a UWS job,
// followed with blocking WAITs, aborted with PHASE=ABORT).
import { ServiceError, errorMessage, form, readTable, request, serviceUrl } from "./api.js";

const FINAL = new Set(["COMPLETED", "ERROR", "ABORTED", "ARCHIVED"]);

export function queryParams(query, maxrec, format = "json") {
  return { LANG: "ADQL", QUERY: query, MAXREC: maxrec, RESPONSEFORMAT: format };
}

/** The GET URL of the same query in another format (the results' downloads). */
export function syncUrl(query, maxrec, format) {
  return serviceUrl("tap/sync", queryParams(query, maxrec, format));
}

export async function runSync(query, maxrec, signal) {
  const response = await request(serviceUrl("tap/sync"), { method: "POST", body: form(queryParams(query, maxrec)), signal });
  return readTable(response);
}

function phaseOf(doc) {
  const phase = doc.getElementsByTagNameNS("*", "phase")[0];
  return phase ? phase.textContent.trim() : "UNKNOWN";
}

/** An async job: start() creates and runs it, wait() follows it to its end, abort() stops it. */
export class AsyncJob {
  constructor(query, maxrec, onPhase) {
    this.query = query;
    this.maxrec = maxrec;
    this.onPhase = onPhase;
    this.url = null;
    this.phase = "PENDING";
    this.controller = new AbortController();
  }

  async start() {
    const response = await request(serviceUrl("tap/async"), {
      method: "POST",
      body: form({ ...queryParams(this.query, this.maxrec), PHASE: "RUN" }),
      signal: this.controller.signal,
    });
    this.url = response.url; // the job's URL, after the 303
    this.report(phaseOf(new DOMParser().parseFromString(await response.text(), "application/xml")));
  }

  report(phase) {
    this.phase = phase;
    this.onPhase(phase, this.url);
  }

  async wait() {
    while (!FINAL.has(this.phase)) {
      const url = new URL(this.url);
      url.searchParams.set("WAIT", "10");
      if (this.phase !== "UNKNOWN") url.searchParams.set("PHASE", this.phase);
      const response = await request(url.href, { signal: this.controller.signal });
      this.report(phaseOf(new DOMParser().parseFromString(await response.text(), "application/xml")));
    }
    if (this.phase === "COMPLETED") {
      return readTable(await request(`${this.url}/results/result`, { signal: this.controller.signal }));
    }
    if (this.phase === "ABORTED") throw new ServiceError("The job was cancelled");
    const error = await fetch(`${this.url}/error`).catch(() => null);
    const text = error ? await error.text() : "";
    throw new ServiceError(error ? errorMessage(text, error.headers.get("content-type")) : "The job ended in ERROR");
  }

  async abort() {
    this.controller.abort();
    if (!this.url || FINAL.has(this.phase)) return;
    await fetch(`${this.url}/phase`, { method: "POST", body: form({ PHASE: "ABORT" }) });
    this.report("ABORTED");
  }
}
