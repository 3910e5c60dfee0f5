"""What the services built on the ObsCore table share: datasets found by publisher DID, the values
of its enumerated columns, the dataset the DALI examples are written around, and the DataLink
descriptors a discovery answer carries."""
