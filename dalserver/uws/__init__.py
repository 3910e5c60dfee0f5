"""UWS 1.1 jobs for any protocol: the durable store, the runner that hands jobs to a worker function, the REST binding."""
