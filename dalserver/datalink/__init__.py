"""DataLink 1.1: the links of each dataset, previews, and the service descriptors that lead to them."""
