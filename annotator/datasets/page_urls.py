from django.urls import path

from annotator.datasets import views

urlpatterns = [
    path("projects/<str:project_id>/datasets/new", views.dataset_create, name="dataset-create"),
    path("datasets/<str:dataset_id>/", views.dataset_detail, name="dataset-detail"),
]
