"""VOResource records of the archive, made from its state, and the RegTAP rows made from records."""
