"""Every recipe endpoint, for every role and for a stranger, and the services datasets will call."""

import pytest

from annotator.core.errors import BadRequest, Forbidden, NotFound
from annotator.core.ids import is_valid_id
from annotator.ontologies import selectors, services
from annotator.ontologies.models import Ontology, Recipe, RecipeOntology
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

ALL = ["owner", "engineer", "annotationManager", "annotator", "reviewer"]
EDITORS = {"owner", "engineer"}  # recipe.create, recipe.update, recipe.delete


def url(recipe, suffix=""):
    return f"/api/v1/recipes/{recipe.id}{suffix}"


def linked_ids(recipe):
    return list(RecipeOntology.objects.filter(recipe=recipe).order_by("position").values_list("ontology_id", flat=True))


# --- create -------------------------------------------------------------------------------------
def test_create_as_the_sdk_sends_it(client_for, members, project, ontology, events):
    # given: the body of dataset.recipes.create(...)
    body = {
        "title": "cars Default Recipe",
        "projectIds": [project.id],
        "ontologyIds": [ontology.id],
        "uiSettings": {"allowObjectIdAutoAssign": True, "studioV2App": True},
    }

    # when
    response = client_for(members["engineer"]).post("/api/v1/recipes", body, format="json")

    # then
    assert response.status_code == 201, response.json()
    data = response.json()
    assert is_valid_id(data["id"])
    assert data["title"] == "cars Default Recipe"
    assert data["projectIds"] == [project.id] and data["ontologyIds"] == [ontology.id]
    assert data["uiSettings"] == {"allowObjectIdAutoAssign": True, "studioV2App": True}
    assert data["instructions"] == "" and data["labelTools"] == {}
    assert data["metadata"] == {"system": {"projectIds": [project.id]}}
    assert data["creator"] == members["engineer"].email
    assert data["url"] == f"/api/v1/recipes/{data['id']}"
    recipe = Recipe.objects.get(pk=data["id"])
    assert recipe.project_id == project.id and linked_ids(recipe) == [ontology.id]
    assert events[-1][:2] == (f"project.{project.id}", "recipe.created")


@pytest.mark.parametrize("role", ALL)
def test_only_editors_create(client_for, members, project, ontology, role):
    body = {"title": "R", "projectIds": [project.id], "ontologyIds": [ontology.id]}
    response = client_for(members[role]).post("/api/v1/recipes", body, format="json")
    assert response.status_code == (201 if role in EDITORS else 403)
    assert Recipe.objects.exists() is (role in EDITORS)


def test_create_without_ontologies_makes_an_empty_one(client_for, members, project):
    response = client_for(members["owner"]).post(
        "/api/v1/recipes", {"title": "Fresh", "projectIds": [project.id]}, format="json"
    )
    assert response.status_code == 201
    ontology = Ontology.objects.get()
    assert response.json()["ontologyIds"] == [ontology.id] and ontology.roots == []


def test_create_keeps_ontologies_in_order_with_label_tools(client_for, members, project, ontology):
    second = services.ontology_create(user=project.creator, project_ids=[project.id], roots=[{"tag": "Sign"}])
    body = {
        "title": "Two",
        "projectIds": [project.id],
        "ontologyIds": [second.id, ontology.id],
        "instructions": "Box every car.",
        "labelTools": {"Vehicle.Car": ["box", "segment"], "Sign": ["point"]},
    }
    data = client_for(members["owner"]).post("/api/v1/recipes", body, format="json").json()
    assert data["ontologyIds"] == [second.id, ontology.id]
    assert data["labelTools"] == {"Vehicle.Car": ["box", "segment"], "Sign": ["point"]}
    assert Recipe.objects.get().instructions == "Box every car."


def test_creating_in_a_strangers_project_is_404(client_for, members):
    other = ProjectFactory()
    response = client_for(members["owner"]).post("/api/v1/recipes", {"projectIds": [other.id]}, format="json")
    assert response.status_code == 404
    assert not Recipe.objects.exists() and not Ontology.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"projectIds": []},
        {"ontologyIds": ["ffffffffffffffffffffffff"]},
        {"ontologyIds": ["not-an-id"]},
        {"ontologyIds": ["OTHER"]},
        {"ontologyIds": ["OID", "OID"]},
        {"title": "x" * 201},
        {"uiSettings": ["a"]},
        {"labelTools": {"Vehicle.Car": ["hammer"]}},
        {"labelTools": {"Vehicle.Car": "box"}},
        {"labelTools": {"Nope": ["box"]}},
        {"labelTools": ["box"]},
    ],
)
def test_bad_creations_are_400_and_create_nothing(client_for, members, project, ontology, change):
    # given: an ontology of another project that the owner can see
    other = ProjectFactory(creator=members["owner"])
    elsewhere = services.ontology_create(user=members["owner"], project_ids=[other.id])
    body = {"title": "R", "projectIds": [project.id], "ontologyIds": [ontology.id]} | change
    body["ontologyIds"] = [
        {"OID": ontology.id, "OTHER": elsewhere.id}.get(oid, oid) for oid in body.get("ontologyIds", [])
    ]

    # when
    response = client_for(members["owner"]).post("/api/v1/recipes", body, format="json")

    # then
    assert response.status_code == 400, response.json()
    assert response.json()["message"]
    assert not Recipe.objects.exists()
    assert Ontology.objects.count() == 2


# --- read ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ALL)
def test_every_member_reads_the_recipe(client_for, members, recipe, ontology, role):
    response = client_for(members[role]).get(url(recipe))
    assert response.status_code == 200
    assert response.json()["id"] == recipe.id and response.json()["ontologyIds"] == [ontology.id]


@pytest.mark.parametrize("role", ALL)
def test_every_member_lists_recipes_as_the_sdk_asks(client_for, members, project, recipe, role):
    # given: a recipe of a project they are not in
    outsider = ProjectFactory()
    services.recipe_create(user=outsider.creator, project_ids=[outsider.id], title="Theirs")

    # when: the URL dtlpy's Filters.generate_url_query_params builds
    response = client_for(members[role]).get(f"/api/v1/recipes?projects={project.id}&&pageOffset=0&pageSize=1000")

    # then
    assert response.status_code == 200
    body = response.json()
    assert [r["id"] for r in body["items"]] == [recipe.id]
    assert body["totalItemsCount"] == 1 and body["hasNextPage"] is False


def test_list_does_not_grow_queries_with_recipes(client_for, members, project, django_assert_max_num_queries):
    api = client_for(members["reviewer"])
    for index in range(12):
        services.recipe_create(user=project.creator, project_ids=[project.id], title=f"r{index}")
    with django_assert_max_num_queries(6):
        items = api.get(f"/api/v1/recipes?projects={project.id}").json()["items"]
    assert len(items) == 12 and all(len(item["ontologyIds"]) == 1 for item in items)


def test_a_stranger_gets_404_for_everything(client_for, members, project, recipe):
    api = client_for(members["stranger"])
    calls = [
        api.get(url(recipe)),
        api.patch(url(recipe), {"title": "Mine"}, format="json"),
        api.put(url(recipe), {"title": "Mine"}, format="json"),
        api.delete(url(recipe)),
        api.get(f"/api/v1/recipes?projects={project.id}"),
        api.post("/api/v1/recipes", {"title": "x", "projectIds": [project.id]}, format="json"),
    ]
    assert [c.status_code for c in calls] == [404] * len(calls)
    recipe.refresh_from_db()
    assert recipe.title == "Cars recipe" and Recipe.objects.count() == 1


def test_unknown_ids_are_404(client_for, members):
    api = client_for(members["owner"])
    assert api.get("/api/v1/recipes/" + "0" * 24).json()["message"] == "Recipe not found."
    assert api.patch("/api/v1/recipes/x", {"title": "y"}, format="json").status_code == 404


# --- update -------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ALL)
@pytest.mark.parametrize("method", ["patch", "put"])
def test_only_editors_update(client_for, members, recipe, role, method):
    response = getattr(client_for(members[role]), method)(url(recipe), {"title": "Renamed"}, format="json")
    recipe.refresh_from_db()
    if role in EDITORS:
        assert response.status_code == 200 and response.json()["title"] == "Renamed"
        assert recipe.title == "Renamed"
    else:
        assert response.status_code == 403 and recipe.title == "Cars recipe"


def test_update_accepts_the_sdks_whole_recipe(client_for, members, recipe, ontology, events):
    # given: dtlpy's Recipe.to_json() after changing the title and instructions
    api = client_for(members["owner"])
    data = api.get(url(recipe)).json()
    body = {
        "id": data["id"],
        "creator": data["creator"],
        "url": data["url"],
        "title": "From SDK",
        "description": None,
        "instructions": "Read me",
        "examples": None,
        "metadata": data["metadata"],
        "uiSettings": data["uiSettings"],
        "projectIds": data["projectIds"],
        "customActions": None,
        "ontologyIds": data["ontologyIds"],
        "createdAt": data["createdAt"],
        "updatedAt": data["updatedAt"],
        "updatedBy": None,
    }

    # when
    response = api.patch(url(recipe), body, format="json")

    # then
    assert response.status_code == 200, response.json()
    recipe.refresh_from_db()
    assert (recipe.title, recipe.instructions) == ("From SDK", "Read me")
    assert linked_ids(recipe) == [ontology.id]
    assert events[-1][1] == "recipe.updated" and events[-1][2]["title"] == "From SDK"


def test_changing_ontologies_keeps_order_and_drops_tools_of_labels_gone(client_for, members, project, recipe, ontology):
    # given
    api = client_for(members["owner"])
    api.patch(url(recipe), {"labelTools": {"Vehicle.Car": ["box"], "Person": ["point"]}}, format="json")
    signs = services.ontology_create(user=project.creator, project_ids=[project.id], roots=[{"tag": "Person"}])

    # when
    response = api.patch(url(recipe), {"ontologyIds": [signs.id]}, format="json")

    # then
    assert response.status_code == 200
    assert response.json()["ontologyIds"] == [signs.id]
    recipe.refresh_from_db()
    assert linked_ids(recipe) == [signs.id] and recipe.label_tools == {"Person": ["point"]}


def test_label_tools_sent_back_for_a_deleted_label_are_dropped(client_for, members, recipe, ontology):
    # given: tools for Person, then Person leaves the ontology
    api = client_for(members["owner"])
    api.patch(url(recipe), {"labelTools": {"Person": ["point"], "Vehicle": ["box"]}}, format="json")
    api.put(f"/api/v1/ontologies/{ontology.id}", {"roots": [{"value": {"tag": "Vehicle"}}]}, format="json")

    # when: a client sends back what it read, changing Vehicle only
    response = api.patch(url(recipe), {"labelTools": {"Person": ["point"], "Vehicle": ["class"]}}, format="json")

    # then
    assert response.status_code == 200
    recipe.refresh_from_db()
    assert recipe.label_tools == {"Vehicle": ["class"]}


@pytest.mark.parametrize(
    "body",
    [
        {"title": ""},
        {"ontologyIds": []},
        {"ontologyIds": ["OTHER"]},
        {"labelTools": {"Vehicle.Car": ["box", "laser"]}},
        {"labelTools": {"Vehicle.Bus": ["box"]}},
        {"uiSettings": "dark"},
        {"instructions": ["step 1"]},
    ],
)
def test_bad_updates_are_400_and_change_nothing(client_for, members, recipe, ontology, body):
    other = ProjectFactory(creator=members["owner"])
    elsewhere = services.ontology_create(user=members["owner"], project_ids=[other.id])
    if body.get("ontologyIds") == ["OTHER"]:
        body = {"ontologyIds": [elsewhere.id]}
    before = Recipe.objects.values("title", "label_tools", "ui_settings", "instructions").get(pk=recipe.pk)

    response = client_for(members["owner"]).patch(url(recipe), body, format="json")

    assert response.status_code == 400, response.json()
    assert Recipe.objects.values("title", "label_tools", "ui_settings", "instructions").get(pk=recipe.pk) == before
    assert linked_ids(recipe) == [ontology.id]


# --- delete -------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ALL)
def test_only_editors_delete(client_for, members, recipe, ontology, role):
    response = client_for(members[role]).delete(url(recipe))
    assert response.status_code == (200 if role in EDITORS else 403)
    assert Recipe.objects.filter(pk=recipe.pk).exists() is (role not in EDITORS)
    assert Ontology.objects.filter(pk=ontology.pk).exists()  # ontologies outlive recipes


def test_after_its_recipe_goes_the_ontology_may_go(client_for, members, recipe, ontology):
    api = client_for(members["owner"])
    assert api.delete(url(recipe)).status_code == 200
    assert api.delete(f"/api/v1/ontologies/{ontology.id}").status_code == 200
    assert not Ontology.objects.exists()


# --- services and selectors for other apps ----------------------------------------------------------
def test_recipe_create_default_makes_an_ontology_with_the_labels(members, project, events):
    # when
    recipe = services.recipe_create_default(
        user=members["engineer"],
        project=project,
        title="cars Default Recipe",
        labels=[{"tag": "car", "color": "#ff0000"}, {"tag": "person.adult"}],
    )

    # then
    ontology = selectors.recipe_ontologies(recipe)[0]
    assert recipe.title == "cars Default Recipe" and ontology.project_id == project.id
    assert [label["tag"] for label in selectors.recipe_labels(recipe)] == ["car", "person", "person.adult"]
    assert selectors.recipe_labels(recipe)[0]["color"] == "#ff0000"
    assert recipe.ui_settings == {"allowObjectIdAutoAssign": True, "studioV2App": True}
    assert [event for _group, event, _data in events] == ["ontology.created", "recipe.created"]


def test_recipe_create_default_needs_recipe_create(members, project):
    with pytest.raises(Forbidden):
        services.recipe_create_default(user=members["annotator"], project=project, title="x")
    with pytest.raises(NotFound):
        services.recipe_create_default(user=members["stranger"], project=project, title="x")
    assert not Recipe.objects.exists() and not Ontology.objects.exists()


def test_recipe_labels_list_each_tag_once_in_ontology_order(project, ontology):
    second = services.ontology_create(
        user=project.creator, project_ids=[project.id], roots=[{"tag": "Person", "color": "#000000"}, {"tag": "Sign"}]
    )
    recipe = services.recipe_create(
        user=project.creator, project_ids=[project.id], ontology_ids=[ontology.id, second.id]
    )
    labels = selectors.recipe_labels(recipe)
    assert [label["tag"] for label in labels] == ["Vehicle", "Vehicle.Car", "Vehicle.Truck", "Person", "Sign"]
    assert labels[3]["color"] != "#000000"  # from the first ontology


def test_selectors_check_membership(members, recipe, ontology):
    assert selectors.recipe_get(user=members["annotator"], recipe_id=recipe.id) == recipe
    assert selectors.ontology_get(user=members["reviewer"], ontology_id=ontology.id) == ontology
    with pytest.raises(NotFound):
        selectors.recipe_get(user=members["stranger"], recipe_id=recipe.id)
    with pytest.raises(NotFound):
        selectors.ontology_get(user=members["stranger"], ontology_id=ontology.id)


def test_instructions_document_is_set_by_sha256(members, recipe):
    sha = "ab" * 32
    services.recipe_instructions_document_set(user=members["owner"], recipe_id=recipe.id, blob_sha256=sha)
    recipe.refresh_from_db()
    assert recipe.instructions_blob_sha256 == sha
    with pytest.raises(BadRequest, match="sha256"):
        services.recipe_instructions_document_set(user=members["owner"], recipe_id=recipe.id, blob_sha256="x")
