"""Mapping engine, mapping files and the `tandem mapping` commands."""
