"""The HTTP plumbing under every protocol: worker processes and their memory, path tidying and
gzip (ASGI middleware), routers that write each protocol's error document, the answer spool, the
OpenAPI description of DALI parameters, and the HTML pages a browser gets."""
