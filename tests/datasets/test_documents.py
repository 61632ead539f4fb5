"""A recipe's instructions PDF, kept in the binary store."""

import io

import pytest

from annotator.datasets.models import Blob
from annotator.ontologies.models import Recipe
from tests.images import png

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def recipe_of(dataset) -> Recipe:
    return Recipe.objects.get(pk=dataset.metadata["system"]["recipes"][0])


def post_pdf(api, recipe, data: bytes):
    upload = io.BytesIO(data)
    upload.name = "guide.pdf"
    return api.post(f"/api/v1/recipes/{recipe.id}/instructions", {"file": upload}, format="multipart")


def test_an_engineer_attaches_a_pdf_and_members_download_it(client_for, members, dataset):
    recipe = recipe_of(dataset)

    response = post_pdf(client_for(members["engineer"]), recipe, PDF)

    assert response.status_code == 200
    recipe.refresh_from_db()
    assert Blob.objects.get(pk=recipe.instructions_blob_sha256).mimetype == "application/pdf"
    download = client_for(members["annotator"]).get(f"/api/v1/recipes/{recipe.id}/instructions")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == PDF


def test_replacing_the_pdf_releases_the_old_one(client_for, members, dataset):
    recipe = recipe_of(dataset)
    api = client_for(members["owner"])
    post_pdf(api, recipe, PDF)
    first = Recipe.objects.get(pk=recipe.pk).instructions_blob_sha256
    post_pdf(api, recipe, PDF + b"% revised\n")
    assert not Blob.objects.filter(pk=first).exists()
    assert Blob.objects.filter(mimetype="application/pdf").count() == 1


@pytest.mark.parametrize("data", [png(), b"<html>not a pdf</html>", b""])
def test_non_pdfs_are_400_and_store_nothing(client_for, members, dataset, data):
    recipe = recipe_of(dataset)
    response = post_pdf(client_for(members["owner"]), recipe, data)
    assert response.status_code == 400
    assert not Blob.objects.filter(mimetype="application/pdf").exists()
    assert Recipe.objects.get(pk=recipe.pk).instructions_blob_sha256 is None


@pytest.mark.parametrize(
    ("role", "status"), [("annotator", 403), ("reviewer", 403), ("annotationManager", 403), ("stranger", 404)]
)
def test_only_recipe_editors_may_attach(client_for, members, dataset, role, status):
    recipe = recipe_of(dataset)
    assert post_pdf(client_for(members[role]), recipe, PDF).status_code == status
    assert not Blob.objects.filter(mimetype="application/pdf").exists()


def test_no_document_is_404(client_for, members, dataset):
    assert client_for(members["owner"]).get(f"/api/v1/recipes/{recipe_of(dataset).id}/instructions").status_code == 404
