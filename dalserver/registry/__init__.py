"""The archive in the registry: OAI-PMH publishing of its records, its local RegTAP, harvesting."""
