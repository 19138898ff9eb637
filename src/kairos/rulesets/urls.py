from django.urls import path

from kairos.rulesets import views

app_name = "rulesets"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:clinic_id>/", views.clinic_rules, name="clinic"),
    path("<int:clinic_id>/<slug:ruleset>/", views.ruleset_detail, name="ruleset"),
    path("<int:clinic_id>/<slug:ruleset>/<str:key>/", views.param_detail, name="param"),
    path("<int:clinic_id>/<slug:ruleset>/<str:key>/revert/", views.revert, name="revert"),
]
