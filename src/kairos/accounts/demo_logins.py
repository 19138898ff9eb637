"""Demo staff logins shown on the sign-in page and by ``make run`` (dev mode only). No Django imports."""

DEMO_PASSWORD = "kairos-demo"  # noqa: S105 - dev-mode demo only; refused in production

DEMO_USERS = [
    ("demo-prescriber", "Prescriber"),
    ("demo-nurse", "Nurse"),
    ("demo-therapist", "Therapist"),
    ("demo-frontdesk", "Front desk"),
    ("demo-admin", "Clinic admin"),
    ("demo-auditor", "Auditor"),
    ("demo-researcher", "Researcher"),
    ("demo2-prescriber", "Prescriber, second clinic"),
]
