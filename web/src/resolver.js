// "Position or name": coordinates are read in the page (coords.js); anything else that looks like
// a name is sent to this server's resolver (/portal/resolve: the archive's own targets, then CDS
// Sesame when the server may go online), which says who answered. The page itself asks no other host.
import { ServiceError, request, serviceUrl } from "./api.js";
import { parsePosition } from "./coords.js";

/** Whether text that is not a position may be a name: it has a letter beyond those of
 * sexagesimal notation ("NGC 1068", "SXDS", "M 31"; not "02h18m00s -05d00m00s"). */
export function looksLikeName(text) {
  const trimmed = (text || "").trim();
  if (!/\p{L}/u.test(trimmed)) return false;
  return /[^\dhmsd°'":.,+\-\s]/iu.test(trimmed) || /^[a-z]/i.test(trimmed);
}

/** {ra, dec} and, for a name, {name, resolver, detail, radius}; throws an Error saying what is
 * wrong (a bad position, or a name no resolver knows, or the online resolver unreachable). */
export async function resolvePosition(text, resolverUrl) {
  let positionError;
  try {
    return parsePosition(text);
  } catch (error) {
    positionError = error;
  }
  if (!resolverUrl || !looksLikeName(text)) throw positionError;
  const name = text.trim();
  try {
    const response = await request(serviceUrl(resolverUrl, { name }));
    return await response.json();
  } catch (error) {
    if (error instanceof ServiceError && (error.status === 404 || error.status === 503)) {
      const reason = error.message.replace(/^The service failed \(\d+\): /, "").replace(/^'[^']*' (is|neither)/, "it $1");
      throw new Error(`"${name}" is not a position; ${reason}`);
    }
    throw error;
  }
}

/** The words shown under the field once a name is resolved. */
export function resolvedNote(found) {
  if (!found.resolver) return "";
  const where = `${found.ra.toFixed(5)} ${found.dec >= 0 ? "+" : ""}${found.dec.toFixed(5)}`;
  const who = found.resolver === "archive" ? `this archive's target (${found.detail})` : found.detail;
  return `${found.name}: ${where}, from ${who}`;
}
