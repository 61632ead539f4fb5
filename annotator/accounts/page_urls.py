from django.contrib.auth import views as auth_views
from django.urls import path

from annotator.accounts import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.project_list, name="project-list"),
    path("projects/<str:project_id>/", views.project_detail, name="project-detail"),
    path("projects/<str:project_id>/rename", views.project_rename, name="project-rename"),
    path("projects/<str:project_id>/delete", views.project_delete, name="project-delete"),
    path("projects/<str:project_id>/members/<str:email>/role", views.member_role, name="member-role"),
    path("projects/<str:project_id>/members/<str:email>/remove", views.member_remove, name="member-remove"),
    path("account/api-keys/", views.api_keys, name="api-keys"),
    path("account/api-keys/<str:key_id>/revoke", views.api_key_revoke, name="api-key-revoke"),
]
