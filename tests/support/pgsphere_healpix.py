"""pgsphere 1.2's ``healpix_nest`` written again in Python, for tests: its copy of healpix_bare
carries a face coordinate of exactly 1 (a point on a base face's far edge, e.g. a pole) into the
face bits, and the translator's covers must hold the key it gives, not only HEALPix's own."""

from __future__ import annotations

import math


def _spread_bits(v: int) -> int:
    return sum(((v >> bit) & 1) << (2 * bit) for bit in range(31))


def pgsphere_healpix_nest(order: int, ra: float, dec: float) -> int:
    """The key ``healpix_nest(order, spoint(radians(ra), radians(dec)))`` gives, degrees in."""
    phi = math.radians(ra) % (2 * math.pi)  # spoint normalises the longitude to [0, 2 pi)
    theta = math.pi / 2 - math.radians(dec)
    z, s = math.cos(theta), math.sin(theta)
    if s < 0:
        s, phi = -s, phi + math.pi
    za = abs(z)
    x = phi * (1.0 / (2.0 * math.pi))
    if x < 0:
        x += int(x) + 1.0
    elif x >= 1:
        x -= int(x)
    tt = 4.0 * x
    if za <= 2.0 / 3.0:
        temp1, temp2 = 0.5 + tt, z * 0.75
        jp, jm = temp1 - temp2, temp1 + temp2
        ifp, ifm = int(jp), int(jm)
        hx, hy = jm - ifm, 1 + ifp - jp
        face = (ifp | 4) if ifp == ifm else (ifp if ifp < ifm else ifm + 8)
    else:
        ntt = min(int(tt), 3)
        tp = tt - ntt
        tmp = s / math.sqrt((1.0 + za) * (1.0 / 3.0))
        jp, jm = min(tp * tmp, 1.0), min((1.0 - tp) * tmp, 1.0)
        hx, hy, face = (1.0 - jm, 1.0 - jp, ntt) if z >= 0 else (jp, jm, ntt + 8)
    nside = 1 << order
    return face * nside * nside + _spread_bits(int(hx * nside)) + (_spread_bits(int(hy * nside)) << 1)
