"""What every DAL service shares, as DALI (and DataLink 1.1 sec. 4) define it: request parameters,
literal values (POS, intervals, shapes), examples documents, service descriptors, and faults as types."""
