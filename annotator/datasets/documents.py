"""Documents in the binary store: a recipe's instructions PDF.

Stored content-addressed like images (a Blob row plus the file), served as an attachment
with its own content type so a browser never renders it in our origin.
"""

from django.conf import settings
from django.db import transaction
from django.http import FileResponse

from annotator.accounts.models import User
from annotator.core.errors import BadRequest, NotFound
from annotator.datasets import storage
from annotator.datasets.models import Blob
from annotator.datasets.services import blobs_release
from annotator.ontologies.access import recipe_require
from annotator.ontologies.models import Recipe
from annotator.ontologies.selectors import recipe_get
from annotator.ontologies.services import recipe_instructions_document_set

PDF_MAGIC = b"%PDF-"


def recipe_instructions_upload(*, user: User, recipe_id: str, fileobj) -> Recipe:
    """Store a PDF and make it the recipe's instructions document (replacing any earlier one)."""
    recipe_require(user=user, recipe_id=recipe_id, operation="recipe.update")  # 404/403 before storing anything
    temp_path, sha256, size = storage.spool(fileobj, max_bytes=settings.INSTRUCTIONS_MAX_BYTES)
    try:
        with temp_path.open("rb") as handle:
            if handle.read(len(PDF_MAGIC)) != PDF_MAGIC:
                raise BadRequest("Instructions must be a PDF document.", code="invalid_document")
        with transaction.atomic():
            blob, _created = Blob.objects.get_or_create(
                sha256=sha256, defaults={"size": size, "mimetype": "application/pdf"}
            )
            Blob.objects.select_for_update().filter(pk=blob.pk).first()
            storage.place(temp_path, blob.relative_path)
            previous = Recipe.objects.filter(pk=recipe_id).values_list("instructions_blob_sha256", flat=True).first()
            recipe = recipe_instructions_document_set(user=user, recipe_id=recipe_id, blob_sha256=sha256)
            if previous and previous != sha256:
                transaction.on_commit(lambda: blobs_release(sha256s=[previous]))
        return recipe
    except BaseException:
        blobs_release(sha256s=[sha256])  # a rolled-back upload leaves no unreferenced bytes
        raise
    finally:
        temp_path.unlink(missing_ok=True)


def recipe_instructions_response(*, user: User, recipe_id: str) -> FileResponse:
    recipe = recipe_get(user=user, recipe_id=recipe_id)
    blob = Blob.objects.filter(pk=recipe.instructions_blob_sha256).first() if recipe.instructions_blob_sha256 else None
    if blob is None:
        raise NotFound("This recipe has no instructions document.")
    response = FileResponse(
        storage.media_path(blob.relative_path).open("rb"),
        content_type="application/pdf",
        as_attachment=True,
        filename=f"{recipe.title or 'instructions'}.pdf",
    )
    response["ETag"] = f'"{blob.sha256}"'
    response["Content-Security-Policy"] = settings.USER_CONTENT_SECURITY_POLICY
    return response
