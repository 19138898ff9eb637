from django.urls import include, path

from kairos.api.main import api
from kairos.web import views as web_views

urlpatterns = [
    path("health", web_views.health, name="health"),
    path("", include("kairos.web.urls")),
    path("accounts/", include("kairos.accounts.urls")),
    path("patients/", include("kairos.patients.urls")),
    path("audit/", include("kairos.audit.urls")),
    path("access/", include("kairos.access.urls")),
    path("api/v1/", api.urls),
    path("measures/dashboard/", include("kairos.measures.dashboard_urls")),
    path("sessions/", include("kairos.dosing.urls")),
    path("", include("kairos.measures.urls")),
    path("", include("kairos.courses.urls")),
    path("intake/", include("kairos.intake.urls")),
    path("rules/", include("kairos.rulesets.urls")),
]
