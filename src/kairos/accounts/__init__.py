"""Organisations, clinics, staff memberships (role per clinic), two-factor and API tokens."""
