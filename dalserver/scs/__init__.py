"""Simple Cone Search 1.03 over every published table with positions."""
