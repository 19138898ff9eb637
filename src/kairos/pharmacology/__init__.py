"""Kairos pharmacology engine: PK/PD, NMDA occupancy, plasticity -> response, timelines, virtual trials.

Pure Python + numpy/scipy. Imports neither Django nor ``kairos.clinical`` (import-linter). Optional
accelerators (numba, Dask, JAX) are imported lazily inside the functions that use them.
"""
