from django.urls import path  # noqa: F401 - filled in as the endpoints land

api_urlpatterns: list = []
