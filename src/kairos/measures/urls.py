"""Included at the site root: staff pages under ``measures/``, patient pages under ``q/`` (no login)."""

from django.urls import path

from kairos.measures import views

app_name = "measures"
urlpatterns = [
    path("q/<str:token>/", views.patient_form, name="patient_form"),
    path("measures/alerts/", views.alert_board, name="alerts"),
    path("measures/alerts/<int:alert_id>/ack/", views.alert_ack, name="alert_ack"),
    path("measures/patients/<int:patient_id>/", views.patient_measures, name="patient"),
    path("measures/patients/<int:patient_id>/send-link/", views.send_link, name="send_link"),
    path(
        "measures/patients/<int:patient_id>/enter/<str:instrument_id>/", views.enter_instrument, name="enter"
    ),
    path("measures/patients/<int:patient_id>/checks/<int:due_id>/done/", views.check_done, name="check_done"),
    path("measures/clinics/<int:clinic_id>/settings/", views.clinic_settings, name="clinic_settings"),
]
