from django.urls import path

from annotator.exchange import api

api_urlpatterns = [
    path("datasets/<str:dataset_id>/export", api.DatasetExportView.as_view(), name="api-dataset-export"),
    path("datasets/<str:dataset_id>/exports", api.DatasetExportListView.as_view(), name="api-dataset-exports"),
    path("datasets/<str:dataset_id>/import", api.DatasetImportView.as_view(), name="api-dataset-import"),
]
