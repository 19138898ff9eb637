from django.urls import path

from kairos.access import views

app_name = "access"
urlpatterns = [
    path("break-glass/", views.break_glass, name="breakglass"),
    path("break-glass/review/", views.review, name="breakglass_review"),
    path("break-glass/<int:grant_id>/reviewed/", views.mark_reviewed, name="breakglass_mark_reviewed"),
]
