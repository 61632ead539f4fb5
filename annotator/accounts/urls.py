from django.urls import path

from annotator.accounts import api

api_urlpatterns = [
    path("users/me", api.MeView.as_view(), name="api-me"),
    path("users/me/apikeys", api.ApiKeyListView.as_view(), name="api-apikey-list"),
    path("users/me/apikeys/<str:key_id>", api.ApiKeyDetailView.as_view(), name="api-apikey-detail"),
    path("projects", api.ProjectListView.as_view(), name="api-project-list"),
    path("projects/<str:name>/name", api.ProjectByNameView.as_view(), name="api-project-by-name"),
    path("projects/<str:project_id>", api.ProjectDetailView.as_view(), name="api-project-detail"),
    path("projects/<str:project_id>/members", api.MemberListView.as_view(), name="api-member-list"),
    path("projects/<str:project_id>/members/<str:email>", api.MemberDetailView.as_view(), name="api-member-detail"),
]
