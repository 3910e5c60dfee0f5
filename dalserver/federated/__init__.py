"""The federated image search: SIA 2.0 over the VO crawler's cache of other archives' data and, on request, the live services."""
