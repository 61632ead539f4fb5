from django.urls import path

from annotator.core import api

api_urlpatterns = [
    path("commands/<str:command_id>", api.CommandDetailView.as_view(), name="api-command-detail"),
]
