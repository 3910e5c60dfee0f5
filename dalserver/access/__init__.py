"""Proprietary data: who a request is (users, groups, tokens, sessions) and which rows and tables
that identity may see, decided in one place (``visibility``) for every protocol.

Below the protocols and the services, above the database layer: the services hold the gatekeeper
(``gate.Access``), the protocols ask it for the caller's identity and read through its catalogue.
"""
