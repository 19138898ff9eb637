from django.urls import path

from kairos.dosing import views

app_name = "dosing"
urlpatterns = [
    path("", views.session_list, name="list"),
    path("rems/", views.rems_list, name="rems_list"),
    path("<int:session_id>/", views.session_detail, name="detail"),
    path("<int:session_id>/flowsheet/", views.flowsheet_partial, name="flowsheet"),
    path("<int:session_id>/readings/", views.add_reading, name="add_reading"),
    path("<int:session_id>/rems/", views.rems_form, name="rems_form"),
    path("<int:session_id>/rems.pdf", views.rems_form_pdf, name="rems_form_pdf"),
    path("<int:session_id>/discharge.pdf", views.discharge_pdf, name="discharge_pdf"),
    path("<int:session_id>/integration/", views.integration, name="integration"),
    path("<int:session_id>/events/<int:event_id>/report/", views.safety_report, name="safety_report"),
    path("<int:session_id>/<slug:action>/", views.session_action, name="action"),
]
