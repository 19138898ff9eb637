"""Append-only, per-clinic hash-chained audit trail of every PHI read and every write."""
