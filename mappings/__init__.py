"""System <-> canonical translation: mapping files per system and the engine that runs them.

``mappings/<system>/`` holds one ``<entity>.to_canonical.yaml`` / ``<entity>.from_canonical.yaml``
per entity and direction, value maps (``*.values.yaml``) and shared parts (``*.part.yaml``);
the system's ``__init__`` gives the flows a typed entry point. Pure: no I/O beyond reading the
mapping files once.
"""
