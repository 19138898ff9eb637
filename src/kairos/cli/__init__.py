"""The ``kairos`` console command and the adapters between the pure packages."""
