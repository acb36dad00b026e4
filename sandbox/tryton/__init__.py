"""Tryton 8.2 as the real ERP on loopback: a cached, seeded database template and a server."""
