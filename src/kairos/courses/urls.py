from django.urls import path

from kairos.courses import views

app_name = "courses"
urlpatterns = [
    path("board/", views.board, name="board"),
    path("board/partial/", views.board_partial, name="board_partial"),
    path("courses/patient/<int:patient_id>/plan/", views.plan, name="plan"),
    path("courses/<int:course_id>/", views.detail, name="detail"),
    path("courses/<int:course_id>/status/", views.course_status, name="status"),
    path("courses/appointments/<int:appointment_id>/move/", views.appointment_move, name="move"),
    path("courses/appointments/<int:appointment_id>/cancel/", views.appointment_cancel, name="cancel"),
    path("clinics/<int:clinic_id>/settings/", views.clinic_settings, name="clinic_settings"),
    path("clinics/<int:clinic_id>/chairs/", views.chair_add, name="chair_add"),
    path("clinics/<int:clinic_id>/closures/", views.closure_add, name="closure_add"),
]
