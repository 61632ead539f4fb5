from django.urls import path

from annotator.ontologies import views

urlpatterns = [
    path("recipes/<str:recipe_id>/", views.recipe_editor, name="recipe-editor"),
]
