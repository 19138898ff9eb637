from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kairos.accounts.models import Membership
from kairos.web.hooks import home_panels


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert user.is_authenticated  # @login_required; narrows User | AnonymousUser for the lookup
    memberships = Membership.objects.filter(user=user).select_related("clinic").order_by("clinic__name")
    return render(request, "web/home.html", {"memberships": memberships, "panels": home_panels(request)})


def health(request: HttpRequest) -> HttpResponse:
    """Liveness probe and the benchmark's trivial baseline view."""
    return HttpResponse("ok", content_type="text/plain")
