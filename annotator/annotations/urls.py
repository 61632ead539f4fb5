from django.urls import path

from annotator.annotations import api

api_urlpatterns = [
    path("items/<str:item_id>/annotations", api.ItemAnnotationsView.as_view(), name="api-item-annotations"),
    path("items/<str:item_id>/annotations/batch", api.ItemAnnotationsBatchView.as_view(), name="api-annotations-batch"),
    path(
        "items/<str:item_id>/annotations/history",
        api.ItemAnnotationsHistoryView.as_view(),
        name="api-item-annotations-history",
    ),
    path(
        "items/<str:item_id>/annotations/completion",
        api.ItemCompletionView.as_view(),
        name="api-item-annotations-completion",
    ),
    path("annotations/<str:annotation_id>", api.AnnotationDetailView.as_view(), name="api-annotation-detail"),
    path("annotations/<str:annotation_id>/history", api.AnnotationHistoryView.as_view(), name="api-annotation-history"),
    path("annotations/<str:annotation_id>/restore", api.AnnotationRestoreView.as_view(), name="api-annotation-restore"),
    path("annotations/<str:annotation_id>/status", api.AnnotationStatusView.as_view(), name="api-annotation-status"),
    path("annotations/<str:annotation_id>/messages", api.NoteMessagesView.as_view(), name="api-note-messages"),
]
