from django.contrib import admin

from annotator.ontologies.models import Ontology, Recipe, RecipeOntology


@admin.register(Ontology)
class OntologyAdmin(admin.ModelAdmin):
    list_display = ["title", "id", "project", "creator", "created_at"]
    search_fields = ["title", "id"]
    list_select_related = ["project", "creator"]
    readonly_fields = ["id", "created_at", "updated_at"]


class RecipeOntologyInline(admin.TabularInline):
    model = RecipeOntology
    extra = 0
    raw_id_fields = ["ontology"]


@admin.register(Recipe)
class RecipeAdmin(admin.ModelAdmin):
    list_display = ["title", "id", "project", "creator", "created_at"]
    search_fields = ["title", "id"]
    list_select_related = ["project", "creator"]
    inlines = [RecipeOntologyInline]
    readonly_fields = ["id", "created_at", "updated_at"]
