"""Declarative table metadata (ObsCore, TAP_SCHEMA) and the code that reads it."""
