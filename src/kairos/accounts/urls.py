from django.contrib.auth import views as auth_views
from django.urls import path

from kairos.accounts import staff_views, views

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
    # the clinic administers itself (issue #11 §6)
    path("admin/", staff_views.admin_menu, name="admin_menu"),
    path("clinics/<int:clinic_id>/staff/invite/", staff_views.staff_invite, name="staff_invite"),
    path("clinics/<int:clinic_id>/staff/<int:user_id>/role/", staff_views.staff_role, name="staff_role"),
    path(
        "clinics/<int:clinic_id>/staff/<int:user_id>/deactivate/",
        staff_views.staff_deactivate,
        name="staff_deactivate",
    ),
    path(
        "clinics/<int:clinic_id>/staff/<int:user_id>/reactivate/",
        staff_views.staff_reactivate,
        name="staff_reactivate",
    ),
    path(
        "clinics/<int:clinic_id>/staff/<int:user_id>/resend-invitation/",
        staff_views.staff_resend,
        name="staff_resend",
    ),
    path("clinics/<int:clinic_id>/access-review/", staff_views.access_review, name="access_review"),
    path(
        "clinics/<int:clinic_id>/access-review.csv", staff_views.access_review_csv, name="access_review_csv"
    ),
    path("invitation/<str:token>/", staff_views.invitation, name="invitation"),
]
