"""The portal: the web page people use (``GET /``) and its assets (``/portal/...``), built from
``web/`` at the repository root into ``static/`` (package data), served from this machine only."""
