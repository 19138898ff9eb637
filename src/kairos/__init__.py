"""Kairos: ketamine/esketamine therapy clinic platform and pharmacology engine."""

__version__ = "0.1.0"
