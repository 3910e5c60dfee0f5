"""Logging in and out: a session cookie for browsers, TOPCAT and astroquery's TapPlus."""
