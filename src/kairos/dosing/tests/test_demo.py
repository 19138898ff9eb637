import pytest

pytestmark = pytest.mark.django_db


def test_demo_loader_is_idempotent(settings):
    settings.DEMO_LOGINS = True
    from kairos.cli.demo_loader import load_demo
    from kairos.dosing.models import DosingSession, RemsForm

    load_demo()
    n = DosingSession.objects.count()
    # the dosing demo's own four sessions live with the north demo patients (N-…); the synthetic
    # measurement generator adds its own discharged history for other patients
    own = DosingSession.objects.filter(patient__mrn__in=["N-1001", "N-1002", "N-1003", "N-1004", "N-1005"])
    assert own.count() == 4
    assert set(own.values_list("status", flat=True)) == {"discharged", "held"}
    assert RemsForm.objects.filter(submitted_at__isnull=False).count() == 1
    assert RemsForm.objects.filter(submitted_at__isnull=True, signed_at__isnull=False).count() == 1
    load_demo()
    assert DosingSession.objects.count() == n
