// A FITS celestial WCS in the browser: the TAN (gnomonic) projection with a CD or PC/CDELT
// matrix and SIP distortions, pixel (0-based) <-> (RA, Dec) in degrees: what the quick-look
// viewer needs for the cursor's coordinates and for placing catalogue sources.

const RAD = Math.PI / 180;

function sipTerms(header, prefix) {
  const order = header.get(`${prefix}_ORDER`);
  const terms = [];
  if (!order) return terms;
  for (let p = 0; p <= order; p += 1) {
    for (let q = 0; p + q <= order; q += 1) {
      const c = header.get(`${prefix}_${p}_${q}`);
      if (c) terms.push([p, q, c]);
    }
  }
  return terms;
}

function poly(terms, u, v) {
  let sum = 0;
  for (const [p, q, c] of terms) sum += c * u ** p * v ** q;
  return sum;
}

export class TanWcs {
  /** ``header``: a Map of FITS keywords (fits.js), or null when the header has no TAN WCS. */
  static from(header) {
    const type1 = String(header.get("CTYPE1") || "");
    const type2 = String(header.get("CTYPE2") || "");
    if (!type1.startsWith("RA---TAN") || !type2.startsWith("DEC--TAN")) return null;
    return new TanWcs(header);
  }

  constructor(header) {
    this.crpix = [header.get("CRPIX1") ?? 0, header.get("CRPIX2") ?? 0];
    this.crval = [header.get("CRVAL1") ?? 0, header.get("CRVAL2") ?? 0];
    if (header.has("CD1_1") || header.has("CD2_2")) {
      this.cd = [[header.get("CD1_1") ?? 0, header.get("CD1_2") ?? 0], [header.get("CD2_1") ?? 0, header.get("CD2_2") ?? 0]];
    } else {
      const cdelt = [header.get("CDELT1") ?? 1, header.get("CDELT2") ?? 1];
      let pc = [[header.get("PC1_1") ?? 1, header.get("PC1_2") ?? 0], [header.get("PC2_1") ?? 0, header.get("PC2_2") ?? 1]];
      if (!header.has("PC1_1") && header.has("CROTA2")) {
        const r = header.get("CROTA2") * RAD;
        pc = [[Math.cos(r), -Math.sin(r) * (cdelt[1] / cdelt[0])], [Math.sin(r) * (cdelt[0] / cdelt[1]), Math.cos(r)]];
      }
      this.cd = pc.map((row, i) => row.map((v) => v * cdelt[i]));
    }
    const [[a, b], [c, d]] = this.cd;
    const det = a * d - b * c;
    this.inverse = [[d / det, -b / det], [-c / det, a / det]];
    this.sip = String(header.get("CTYPE1")).endsWith("-SIP")
      ? { a: sipTerms(header, "A"), b: sipTerms(header, "B"), ap: sipTerms(header, "AP"), bp: sipTerms(header, "BP") }
      : null;
  }

  /** (RA, Dec) in degrees of the 0-based pixel (x, y). */
  pixelToSky(x, y) {
    let u = x + 1 - this.crpix[0];
    let v = y + 1 - this.crpix[1];
    if (this.sip) [u, v] = [u + poly(this.sip.a, u, v), v + poly(this.sip.b, u, v)];
    const xi = (this.cd[0][0] * u + this.cd[0][1] * v) * RAD;
    const eta = (this.cd[1][0] * u + this.cd[1][1] * v) * RAD;
    const [a0, d0] = [this.crval[0] * RAD, this.crval[1] * RAD];
    const denominator = Math.cos(d0) - eta * Math.sin(d0);
    const ra = a0 + Math.atan2(xi, denominator);
    const dec = Math.atan2(eta * Math.cos(d0) + Math.sin(d0), Math.hypot(xi, denominator));
    return [(((ra / RAD) % 360) + 360) % 360, dec / RAD];
  }

  /** The 0-based pixel (x, y) of (RA, Dec), or null on the far side of the sky. */
  skyToPixel(ra, dec) {
    const [a, d] = [ra * RAD, dec * RAD];
    const [a0, d0] = [this.crval[0] * RAD, this.crval[1] * RAD];
    const cosc = Math.sin(d) * Math.sin(d0) + Math.cos(d) * Math.cos(d0) * Math.cos(a - a0);
    if (cosc <= 0) return null;
    const xi = (Math.cos(d) * Math.sin(a - a0)) / cosc / RAD;
    const eta = (Math.sin(d) * Math.cos(d0) - Math.cos(d) * Math.sin(d0) * Math.cos(a - a0)) / cosc / RAD;
    const up = this.inverse[0][0] * xi + this.inverse[0][1] * eta;
    const vp = this.inverse[1][0] * xi + this.inverse[1][1] * eta;
    let [u, v] = [up, vp];
    if (this.sip && (this.sip.ap.length || this.sip.bp.length)) {
      [u, v] = [up + poly(this.sip.ap, up, vp), vp + poly(this.sip.bp, up, vp)];
    } else if (this.sip) {
      for (let k = 0; k < 20; k += 1) {
        // Solve u + A(u, v) = up by fixed-point steps: distortions are small.
        const [nu, nv] = [up - poly(this.sip.a, u, v), vp - poly(this.sip.b, u, v)];
        const done = Math.abs(nu - u) + Math.abs(nv - v) < 1e-10;
        [u, v] = [nu, nv];
        if (done) break;
      }
    }
    return [u + this.crpix[0] - 1, v + this.crpix[1] - 1];
  }
}

/** "02:18:00.00 -05:00:00.0" */
export function sexagesimal(ra, dec) {
  const part = (value, digits, fraction) => {
    const whole = Math.floor(value);
    const minutes = Math.floor((value - whole) * 60);
    const seconds = ((value - whole) * 60 - minutes) * 60;
    let text = seconds.toFixed(fraction).padStart(fraction + 3, "0");
    let m = minutes;
    let w = whole;
    if (text.startsWith("60")) {
      text = (0).toFixed(fraction).padStart(fraction + 3, "0");
      m += 1;
      if (m === 60) (m = 0), (w += 1);
    }
    return `${String(w).padStart(digits, "0")}:${String(m).padStart(2, "0")}:${text}`;
  };
  return `${part(ra / 15, 2, 2)} ${dec < 0 ? "-" : "+"}${part(Math.abs(dec), 2, 1)}`;
}
