"""SIA 2.0: image discovery over ivoa.obscore."""
