from django.urls import path

from annotator.datasets import api

api_urlpatterns = [
    path("datasets", api.DatasetListView.as_view(), name="api-dataset-list"),
    path("datasets/query", api.DatasetQueryView.as_view(), name="api-dataset-query"),
    path("datasets/merge", api.DatasetMergeView.as_view(), name="api-dataset-merge"),
    path("datasets/<str:dataset_id>", api.DatasetDetailView.as_view(), name="api-dataset-detail"),
    path("datasets/<str:dataset_id>/items", api.ItemUploadView.as_view(), name="api-item-upload"),
    path("datasets/<str:dataset_id>/manifest", api.ItemManifestView.as_view(), name="api-item-manifest"),
    path("datasets/<str:dataset_id>/archive", api.ItemArchiveUploadView.as_view(), name="api-item-archive"),
    path("datasets/<str:dataset_id>/query", api.ItemQueryView.as_view(), name="api-item-query"),
    path("datasets/<str:dataset_id>/clone", api.DatasetCloneView.as_view(), name="api-dataset-clone"),
    path("items/<str:item_id>", api.ItemDetailView.as_view(), name="api-item-detail"),
    path("items/<str:item_id>/stream", api.ItemStreamView.as_view(), name="api-item-stream"),
    path("items/<str:item_id>/thumbnail", api.ItemThumbnailView.as_view(), name="api-item-thumbnail"),
]
