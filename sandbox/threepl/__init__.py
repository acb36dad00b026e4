"""Sandbox 3PL warehouse: X12 940 in, 997/945/846 out, on its SFTP area."""

from sandbox.threepl.engine import ThreePLConfig, ThreePLEngine, ThreePLKnobs

__all__ = ["ThreePLConfig", "ThreePLEngine", "ThreePLKnobs"]
