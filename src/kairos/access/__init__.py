"""Authorization in one module: the declarative policy, clinic-scoped selectors' helpers, break-glass."""
