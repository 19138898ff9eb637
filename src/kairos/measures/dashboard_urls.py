"""Clinic outcomes dashboard routes, included at ``/measures/dashboard/`` (namespace ``measures_dashboard``)."""

from django.urls import path

from kairos.measures import dashboard_views

app_name = "measures_dashboard"
urlpatterns = [
    path("", dashboard_views.dashboard_view, name="index"),
    path("deidentified.csv", dashboard_views.dashboard_csv, name="csv"),
]
