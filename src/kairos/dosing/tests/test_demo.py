import pytest

pytestmark = pytest.mark.django_db


def test_demo_loader_is_idempotent(settings):
    settings.DEMO_LOGINS = True
    from kairos.dosing.models import DosingSession, RemsForm
    from kairos.web.demo import load_demo

    load_demo()
    n = DosingSession.objects.count()
    assert n == 4
    assert set(DosingSession.objects.values_list("status", flat=True)) == {"discharged", "held"}
    assert RemsForm.objects.filter(submitted_at__isnull=False).count() == 1
    assert RemsForm.objects.filter(submitted_at__isnull=True, signed_at__isnull=False).count() == 1
    load_demo()
    assert DosingSession.objects.count() == n
