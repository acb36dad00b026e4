"""Sandbox distributors' DRP systems: 852, CSV stock reports and 850 out; 855/810 in."""

from sandbox.drp.engine import DrpConfig, DrpEngine, DrpKnobs

__all__ = ["DrpConfig", "DrpEngine", "DrpKnobs"]
