from django.urls import path

from kairos.intake import views

app_name = "intake"
urlpatterns = [
    path("patient/<int:patient_id>/", views.overview, name="overview"),
    path("patient/<int:patient_id>/diagnoses/", views.diagnosis_add, name="diagnosis_add"),
    path("patient/<int:patient_id>/trials/", views.trial_add, name="trial_add"),
    path("patient/<int:patient_id>/medicines/", views.medicine_add, name="medicine_add"),
    path("patient/<int:patient_id>/history/", views.history_save, name="history_save"),
    path("patient/<int:patient_id>/vitals/", views.vitals_add, name="vitals_add"),
    path("patient/<int:patient_id>/eligibility/", views.eligibility, name="eligibility"),
    path("patient/<int:patient_id>/consent/", views.consent, name="consent"),
    path("patient/<int:patient_id>/rems/", views.rems_enrol, name="rems_enrol"),
    path("clinics/<int:clinic_id>/consent-documents/", views.consent_documents, name="consent_documents"),
]
