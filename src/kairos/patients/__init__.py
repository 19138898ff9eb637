"""The patient registry: clinic-owned patient records, contact details and weight history."""
