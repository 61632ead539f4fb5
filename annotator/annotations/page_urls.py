from django.urls import path

from annotator.annotations import views

urlpatterns = [
    path("studio/<str:item_id>", views.studio, name="studio"),
]
