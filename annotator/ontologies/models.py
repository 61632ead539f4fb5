from django.conf import settings
from django.db import models

from annotator.core.fields import EntityIdField, JSONField


class Ontology(models.Model):
    """A label tree and its attribute definitions, in one project.

    Both are stored as the API exchanges them (see ontologies/labels.py and
    ontologies/attributes.py): the SDK reads and writes the whole tree at once, and
    annotation validation reads it whole, so rows per label would buy nothing.
    """

    id = EntityIdField()
    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="ontologies")
    title = models.CharField(max_length=200)
    # Dataloop's `roots`: [{"value": {"tag", "displayLabel", "color", ...}, "children": [...]}].
    roots = JSONField(default=list, blank=True)
    # Attributes v2 definitions, served as `metadata.attributes` (and `attributes`).
    attributes = JSONField(default=list, blank=True)
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "id"], name="ontology_project_id")]
        verbose_name_plural = "ontologies"

    def __str__(self) -> str:
        return self.title


class Recipe(models.Model):
    """What to label and how: ontologies (in order), instructions, studio settings, tools per label."""

    id = EntityIdField()
    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="recipes")
    title = models.CharField(max_length=200)
    ontologies = models.ManyToManyField(Ontology, through="RecipeOntology", related_name="recipes")
    instructions = models.TextField(blank=True)
    # The instructions PDF, a datasets.Blob by content hash; the binary store owns the bytes.
    instructions_blob_sha256 = models.CharField(max_length=64, null=True, blank=True)
    ui_settings = JSONField(default=dict, blank=True)
    # {full dotted tag: [tool, ...]}; a label not named here may use every tool.
    label_tools = JSONField(default=dict, blank=True)
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "id"], name="recipe_project_id")]

    def __str__(self) -> str:
        return self.title


class RecipeOntology(models.Model):
    """A recipe's ontologies, in order (`ontologyIds`).

    RESTRICT rather than PROTECT: an ontology still used by a recipe cannot be deleted
    on its own, yet deleting the project (which cascades to both) still works.
    """

    recipe = models.ForeignKey(Recipe, on_delete=models.CASCADE, related_name="ontology_links")
    ontology = models.ForeignKey(Ontology, on_delete=models.RESTRICT, related_name="recipe_links")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["recipe", "position"]
        constraints = [
            models.UniqueConstraint(fields=["recipe", "ontology"], name="recipe_ontology_unique"),
            models.UniqueConstraint(fields=["recipe", "position"], name="recipe_ontology_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.recipe_id}[{self.position}] = {self.ontology_id}"
