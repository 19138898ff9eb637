from django.urls import path

from kairos.patients import views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_new, name="new"),
    path("<int:patient_id>/", views.chart, name="chart"),
    path("<int:patient_id>/edit/", views.patient_edit, name="edit"),
    path("<int:patient_id>/weights/", views.weight_add, name="weight_add"),
    path("<int:patient_id>/heights/", views.height_add, name="height_add"),
]
