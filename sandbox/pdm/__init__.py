"""Sandbox PDM: BMEcat 2005 (and 1.2) full catalogues and deltas."""

from sandbox.pdm.engine import PdmConfig, PdmEngine, PdmKnobs

__all__ = ["PdmConfig", "PdmEngine", "PdmKnobs"]
