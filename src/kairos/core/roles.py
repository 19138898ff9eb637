"""Staff roles (one per clinic membership). Kept free of models so policies can import it anywhere."""

from django.db import models


class Role(models.TextChoices):
    PRESCRIBER = "prescriber", "Prescriber"
    NURSE = "nurse", "Nurse"
    THERAPIST = "therapist", "Therapist"
    FRONT_DESK = "front_desk", "Front desk"
    CLINIC_ADMIN = "clinic_admin", "Clinic admin"
    AUDITOR = "auditor", "Auditor"
    RESEARCHER = "researcher", "Researcher"
