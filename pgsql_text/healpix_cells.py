"""HEALPix cells users get: ``dalserver.healpix_nest_exact``, pgsphere's ``healpix_nest`` with
its one wrong class of answers put right, for ``ivo_healpix_index`` and the registry's coverage.

pgsphere 1.2's copy of healpix_bare turns a position into face coordinates (x, y) in [0, 1] and
the cell into ``face * nside^2 + spread(int(x * nside)) + 2 * spread(int(y * nside))`` without
clamping: a point on a base face's far edge (x or y exactly 1, or within half an ulp of it: the
north pole, RA 0/90/180/270 beyond |dec| 41.8, RA 45 + 90k on the equator, and other points of the
equatorial faces' NE/NW edge lines) gets ``int(x * nside) = nside``, and since ``spread(nside)`` is
``nside^2`` the carry lands one face further on (two for y, three for both). The position keys of
keyed catalogues stay pgsphere's own (the shard layout and the range covers are built on that
expression), but a cell a user reads must be the true one.

The function is inlinable SQL (one expression, not STRICT): per row it costs pgsphere's
``healpix_nest`` and a cheap test of whether the point lies within ~1e-9 (in face units) of an
edge where the carry can happen (a million rows: about as fast as ``healpix_nest`` alone). Only those rare points are worked through healpix_bare's own
steps (``healpix_carry``, plpgsql; float8 arithmetic is IEEE double there as in C, and cos/sin
are the same libm's), which says exactly which coordinate carried; the carried
``spread(nside) = nside^2`` is then replaced by ``spread(nside - 1) = (nside^2 - 1) / 3``, the
cell on the face's edge, which is HEALPix's (and cdshealpix's) answer. (pgsphere's spoint takes a
longitude within 1e-9 rad of 2 pi for 0: such a point gets a cell on RA 0, as pgsphere sees it.)
"""

from __future__ import annotations

from pgsql_text.private_schema import SCHEMA

# healpix_bare's loc2hpc, line for line, from pgsphere's (lng, lat) in radians (after conv_theta
# of pgsphere's pgs_util.h: theta = pi/2 - lat, snapped to 0 or pi/2 within 2^-52). 1: x carried,
# 2: y carried, 3: both, 0: neither.
_CARRY_SQL = f"""CREATE OR REPLACE FUNCTION {SCHEMA}.healpix_carry(lng double precision, lat double precision)
RETURNS integer LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    pih CONSTANT double precision := pi() / 2;
    half_eps CONSTANT double precision := float8 '2.220446049250313e-16';
    theta double precision;
    z double precision;
    s double precision;
    phi double precision := lng;
    za double precision;
    x double precision;
    tt double precision;
    jp double precision;
    jm double precision;
    ntt double precision;
    tp double precision;
    tmp double precision;
    hx double precision;
    hy double precision;
BEGIN
    IF lng IS NULL OR lat IS NULL THEN
        RETURN NULL;
    ELSIF lng = 'NaN' OR lat = 'NaN' THEN
        RETURN 0;  -- no cell to put right (PostgreSQL orders NaN above 1)
    END IF;
    theta := CASE WHEN abs(lat) < half_eps THEN pih WHEN abs(pih - lat) < half_eps THEN 0 ELSE pih - lat END;
    z := cos(theta);
    s := sin(theta);
    IF s < 0 THEN
        s := -s;
        phi := phi + pi();
    END IF;
    za := abs(z);
    x := phi * (float8 '1' / (float8 '2' * pi()));
    IF x < 0 THEN
        x := x + (trunc(x) + 1);
    ELSIF x >= 1 THEN
        x := x - trunc(x);
    END IF;
    tt := 4 * x;
    IF za <= float8 '2' / float8 '3' THEN
        jp := (float8 '0.5' + tt) - z * float8 '0.75';
        jm := (float8 '0.5' + tt) + z * float8 '0.75';
        hx := jm - trunc(jm);
        hy := (1 + trunc(jp)) - jp;
    ELSE
        ntt := least(trunc(tt), 3);
        tp := tt - ntt;
        tmp := s / sqrt((1 + za) * (float8 '1' / float8 '3'));
        jp := least(tp * tmp, 1);
        jm := least((1 - tp) * tmp, 1);
        IF z >= 0 THEN
            hx := 1 - jm;
            hy := 1 - jp;
        ELSE
            hx := jp;
            hy := jm;
        END IF;
    END IF;
    RETURN (hx >= 1)::integer + 2 * (hy >= 1)::integer;
END $$"""

# (2 nside^2 + 1) / 3 = nside^2 - spread(nside - 1): what one carry added; y's counts twice.
# A carry needs a face coordinate within half an ulp of 1; the test before it lets through, with a
# wide margin (~1e-9 in face units), the points near an edge where one can happen: in the polar
# caps (|dec| above 41.8) those near a meridian RA = 90k or near the pole (frac(RA / 90) * cos(dec)
# small), in the equatorial band (|dec| below 41.8) those near a face's NE/NW edge line, where
# 0.5 + RA / 90 - 0.75 sin(dec) is near an integer. Positions pgsphere must normalise first (|dec|
# over 90, |RA| so large that RA / 90 loses the margin) always take the exact path.
# The order is clamped in the shift only so that planning (which folds it) cannot fail before
# healpix_nest says what is wrong with an order outside 0..29.
_EXACT_SQL = f"""CREATE OR REPLACE FUNCTION {SCHEMA}.healpix_nest_exact(
    cell_order integer, ra_deg double precision, dec_deg double precision
) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT healpix_nest(cell_order, spoint(radians(ra_deg), radians(dec_deg)))
    - CASE WHEN NOT (abs(dec_deg) <= 90 AND abs(ra_deg) < 1e6)
            OR (abs(dec_deg) > 40
                AND abs(ra_deg / 90 - round(ra_deg / 90)) * cos(radians(dec_deg)) < float8 '1e-9')
            OR (abs(dec_deg) < 43.6
                AND abs((0.5 + ra_deg / 90 - 0.75 * sin(radians(dec_deg)))
                        - round(0.5 + ra_deg / 90 - 0.75 * sin(radians(dec_deg)))) < float8 '1e-9')
        THEN {SCHEMA}.healpix_carry(long(spoint(radians(ra_deg), radians(dec_deg))),
                                    lat(spoint(radians(ra_deg), radians(dec_deg))))
             * ((2 * (CAST(1 AS bigint) << (2 * least(greatest(cell_order, 0), 29))) + 1) / 3)
        ELSE 0 END
$$"""

HEALPIX_SQL = (_CARRY_SQL, _EXACT_SQL)


def healpix_cell_sql(order_sql: str, ra_sql: str, dec_sql: str) -> str:
    """The nested HEALPix cell at an integer order expression of a position (two SQL expressions
    in degrees): the true cell, also on base-face edges (unlike pgsphere's ``healpix_nest``, which
    the position keys use). Inlined where ra and dec are cheap (columns, constants)."""
    return f"{SCHEMA}.healpix_nest_exact({order_sql}, {ra_sql}, {dec_sql})"
