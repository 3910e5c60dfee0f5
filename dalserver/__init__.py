"""dalserver: publish an astronomical archive to the Virtual Observatory (TAP, ObsCore, VOSI)."""
