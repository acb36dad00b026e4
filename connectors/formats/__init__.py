"""Document formats shared by connectors (X12 EDI, ...); pure codecs, no transport I/O."""
