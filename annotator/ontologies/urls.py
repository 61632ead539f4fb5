from django.urls import path

from annotator.ontologies import api

api_urlpatterns = [
    path("ontologies", api.OntologyListView.as_view(), name="api-ontology-list"),
    path("ontologies/<str:ontology_id>", api.OntologyDetailView.as_view(), name="api-ontology-detail"),
    path("ontologies/<str:ontology_id>/labels", api.OntologyLabelsView.as_view(), name="api-ontology-labels"),
    path("ontologies/<str:ontology_id>/addLabels", api.OntologyAddLabelsView.as_view(), name="api-ontology-add-labels"),
    path(
        "ontologies/<str:ontology_id>/attributes", api.OntologyAttributesView.as_view(), name="api-ontology-attributes"
    ),
    path("recipes", api.RecipeListView.as_view(), name="api-recipe-list"),
    path("recipes/<str:recipe_id>", api.RecipeDetailView.as_view(), name="api-recipe-detail"),
    path("recipes/<str:recipe_id>/instructions", api.RecipeInstructionsView.as_view(), name="api-recipe-instructions"),
]
