"""The IVOA's names that dalserver writes into its documents, each written once
(``ivoa.vocabulary``): standard identifiers, XML namespaces and their canonical prefixes, schema
locations. Data only, at the bottom of the house, so that every layer (the ADQL translator's
TAPRegExt features included) can reach it.
"""
