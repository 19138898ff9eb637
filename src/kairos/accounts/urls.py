from django.contrib.auth import views as auth_views
from django.urls import path

from kairos.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("2fa/verify/", views.verify_2fa, name="2fa_verify"),
    path("2fa/setup/", views.setup_2fa, name="2fa_setup"),
    path("2fa/add/", views.add_device, name="2fa_add"),
    path("2fa/recovery-codes/", views.regenerate_recovery_codes, name="2fa_recovery_codes"),
    path("settings/", views.account_settings, name="settings"),
    path("settings/tokens/<int:token_id>/revoke/", views.revoke_token, name="token_revoke"),
    path("staff/", views.staff, name="staff"),
    path(
        "clinics/<int:clinic_id>/staff/<int:user_id>/reset-2fa/",
        views.staff_reset_2fa,
        name="staff_reset_2fa",
    ),
]
