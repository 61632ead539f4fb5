"""Every ontology endpoint, for every role and for a stranger, plus the shapes dtlpy reads."""

import pytest

from annotator.accounts.models import Project
from annotator.core.ids import is_valid_id
from annotator.ontologies import services
from annotator.ontologies.models import Ontology, RecipeOntology
from annotator.ontologies.selectors import ontology_labels_flat
from tests.factories import MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db

ALL = ["owner", "engineer", "annotationManager", "annotator", "reviewer"]
EDITORS = {"owner", "engineer"}  # ontology.update


def url(ontology, suffix=""):
    return f"/api/v1/ontologies/{ontology.id}{suffix}"


def flat_of(ontology):
    """{full tag: value} as stored now."""
    ontology.refresh_from_db()
    return dict(ontology_labels_flat(ontology))


def tags_of(ontology):
    return list(flat_of(ontology))


# --- create -------------------------------------------------------------------------------------
def test_create_as_the_sdk_sends_it(client_for, members, project, events):
    # given: the body of dl.ontologies.create(labels=[...], project_ids=pid), after labels_to_roots
    body = {
        "roots": [
            {"value": {"tag": "dog", "color": "#FF0000", "attributes": []}, "children": []},
            {"value": {"tag": "cat", "color": "#00ff00", "attributes": []}, "children": []},
        ],
        "projectIds": [project.id],
        "attributes": [],
    }

    # when
    response = client_for(members["engineer"]).post("/api/v1/ontologies", body, format="json")

    # then
    assert response.status_code == 201, response.json()
    data = response.json()
    assert is_valid_id(data["id"])
    assert data["projectIds"] == [project.id]
    assert data["metadata"] == {"system": {"projectIds": [project.id]}, "attributes": []}
    assert data["attributes"] == []
    assert data["creator"] == members["engineer"].email
    assert data["url"] == f"/api/v1/ontologies/{data['id']}"
    assert {"createdAt", "updatedAt", "title"} <= set(data)
    dog = data["roots"][0]["value"]
    assert dog == {
        "tag": "dog",
        "displayLabel": "dog",
        "color": "#ff0000",
        "attributes": [],
        "displayData": {"hotkey": "1"},
        "hotkey": "1",
        "icon": None,
    }
    ontology = Ontology.objects.get(pk=data["id"])
    assert ontology.project_id == project.id and tags_of(ontology) == ["dog", "cat"]
    assert [(group, event) for group, event, _ in events] == [(f"project.{project.id}", "ontology.created")]


@pytest.mark.parametrize("role", ALL)
def test_only_editors_create(client_for, members, project, role):
    body = {"roots": [{"value": {"tag": "a"}}], "projectIds": [project.id], "title": "Mine"}
    response = client_for(members[role]).post("/api/v1/ontologies", body, format="json")
    if role in EDITORS:
        assert response.status_code == 201
        assert Ontology.objects.get().title == "Mine"
    else:
        assert response.status_code == 403 and response.json()["code"] == "forbidden"
        assert not Ontology.objects.exists()


def test_create_with_nested_and_dotted_roots(client_for, members, project):
    body = {
        "projectIds": [project.id],
        "roots": [
            {"value": {"tag": "Vehicle"}, "children": [{"value": {"tag": "Car.Sedan"}, "children": []}]},
            {"value": {"tag": "Animal.Dog"}, "children": []},
        ],
    }
    data = client_for(members["owner"]).post("/api/v1/ontologies", body, format="json").json()
    ontology = Ontology.objects.get(pk=data["id"])
    assert tags_of(ontology) == ["Vehicle", "Vehicle.Car", "Vehicle.Car.Sedan", "Animal", "Animal.Dog"]
    assert data["roots"][0]["children"][0]["value"]["tag"] == "Car"  # short tags in the tree


@pytest.mark.parametrize(
    "body",
    [
        {"roots": []},  # no projectIds
        {"roots": [], "projectIds": []},
        {"roots": "dog", "projectIds": ["PID"]},
        {"roots": [{"value": {"color": "#000000"}}], "projectIds": ["PID"]},
        {"roots": [{"value": {"tag": "a"}}, {"value": {"tag": "a"}}], "projectIds": ["PID"]},
        {"roots": [{"value": {"tag": "a", "color": "red"}}], "projectIds": ["PID"]},
        {"roots": [], "projectIds": ["PID"], "attributes": ["occluded"]},
        {"roots": [], "projectIds": ["PID"], "attributes": [{"key": "k", "type": "boolean", "scope": ["nope"]}]},
        {"roots": [], "projectIds": ["PID"], "title": "x" * 201},
    ],
)
def test_bad_creations_are_400_and_create_nothing(client_for, members, project, body):
    body = {k: ([project.id] if v == ["PID"] else v) for k, v in body.items()}
    response = client_for(members["owner"]).post("/api/v1/ontologies", body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["status"] == 400 and response.json()["message"]
    assert not Ontology.objects.exists()


def test_creating_in_a_strangers_project_is_404(client_for, members):
    other = ProjectFactory()
    response = client_for(members["owner"]).post(
        "/api/v1/ontologies", {"roots": [], "projectIds": [other.id]}, format="json"
    )
    assert response.status_code == 404
    assert not Ontology.objects.exists()


# --- read ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ALL)
def test_every_member_reads_the_ontology(client_for, members, ontology, role):
    response = client_for(members[role]).get(url(ontology))
    assert response.status_code == 200
    data = response.json()
    assert data["id"] == ontology.id and data["title"] == "Vehicles"
    assert [root["value"]["tag"] for root in data["roots"]] == ["Vehicle", "Person"]
    assert [child["value"]["tag"] for child in data["roots"][0]["children"]] == ["Car", "Truck"]


@pytest.mark.parametrize("role", ALL)
def test_every_member_lists_the_projects_ontologies_paged(client_for, members, project, ontology, role):
    # given: another ontology of this project and one of a project they are not in
    second = services.ontology_create(user=project.creator, project_ids=[project.id], title="Second")
    outsider = ProjectFactory()
    services.ontology_create(user=outsider.creator, project_ids=[outsider.id])

    # when
    response = client_for(members[role]).get(f"/api/v1/ontologies?pageOffset=0&pageSize=100&projects={project.id}")

    # then
    assert response.status_code == 200
    body = response.json()
    assert [o["id"] for o in body["items"]] == [ontology.id, second.id]
    assert body["totalItemsCount"] == 2 and body["totalPagesCount"] == 1 and body["hasNextPage"] is False


def test_list_without_projects_is_all_of_mine_and_ids_filters(client_for, members, project, ontology):
    # given
    mine = ProjectFactory(creator=members["annotator"])
    elsewhere = services.ontology_create(user=mine.creator, project_ids=[mine.id])
    api = client_for(members["annotator"])

    # then
    assert [o["id"] for o in api.get("/api/v1/ontologies").json()["items"]] == [ontology.id, elsewhere.id]
    only = api.get(f"/api/v1/ontologies?ids={elsewhere.id}").json()["items"]
    assert [o["id"] for o in only] == [elsewhere.id]


def test_list_pages(client_for, members, project):
    for index in range(5):
        services.ontology_create(user=project.creator, project_ids=[project.id], title=f"o{index}")
    api = client_for(members["owner"])
    page = api.get(f"/api/v1/ontologies?projects={project.id}&pageOffset=1&pageSize=2").json()
    assert [o["title"] for o in page["items"]] == ["o2", "o3"]
    assert page["totalItemsCount"] == 5 and page["totalPagesCount"] == 3 and page["hasNextPage"] is True
    assert api.get("/api/v1/ontologies?pageSize=0").status_code == 400
    assert api.get("/api/v1/ontologies?pageOffset=x").status_code == 400


def test_list_does_not_grow_queries_with_ontologies(client_for, members, project, django_assert_max_num_queries):
    api = client_for(members["annotator"])
    for index in range(12):
        services.ontology_create(user=project.creator, project_ids=[project.id], roots=[{"tag": f"l{index}"}])
    with django_assert_max_num_queries(5):
        assert len(api.get(f"/api/v1/ontologies?projects={project.id}").json()["items"]) == 12


# --- strangers and bad ids ----------------------------------------------------------------------
def test_a_stranger_gets_404_for_everything(client_for, members, project, ontology):
    api = client_for(members["stranger"])
    before = Ontology.objects.get(pk=ontology.pk).roots
    calls = [
        api.get(url(ontology)),
        api.put(url(ontology), {"roots": []}, format="json"),
        api.patch(url(ontology, "/labels"), {"labelsNode": [{"tag": "x"}], "upsert": True}, format="json"),
        api.patch(url(ontology, "/addLabels"), {"labelsNode": [{"tag": "x"}]}, format="json"),
        api.patch(
            url(ontology, "/attributes"), {"items": [{"key": "k", "type": "boolean"}], "upsert": True}, format="json"
        ),
        api.delete(url(ontology, "/attributes"), {"keys": ["k"]}, format="json"),
        api.delete(url(ontology)),
        api.get(f"/api/v1/ontologies?projects={project.id}"),
        api.post("/api/v1/ontologies", {"roots": [], "projectIds": [project.id]}, format="json"),
    ]
    assert [c.status_code for c in calls] == [404] * len(calls)
    assert all(c.json()["code"] == "not_found" for c in calls)
    assert Ontology.objects.get(pk=ontology.pk).roots == before
    assert Ontology.objects.count() == 1


def test_a_stranger_lists_nothing_of_the_project(client_for, members, ontology):
    assert client_for(members["stranger"]).get("/api/v1/ontologies").json()["items"] == []


def test_unknown_and_malformed_ids_are_404(client_for, members):
    api = client_for(members["owner"])
    assert api.get("/api/v1/ontologies/" + "f" * 24).json()["message"] == "Ontology not found."
    assert api.get("/api/v1/ontologies/not-an-id").status_code == 404
    assert api.patch("/api/v1/ontologies/nope/labels", {"labelsNode": []}, format="json").status_code == 404


def test_anonymous_gets_401(anon_api, ontology):
    assert anon_api.get(url(ontology)).status_code == 401
    assert anon_api.get("/api/v1/ontologies").status_code == 401


# --- PUT ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ALL)
def test_only_editors_put(client_for, members, ontology, role):
    api = client_for(members[role])
    body = api.get(url(ontology)).json()
    body["title"] = "Renamed"
    body["roots"] = body["roots"][:1]
    response = api.put(url(ontology), body, format="json")
    if role in EDITORS:
        assert response.status_code == 200
        assert tags_of(ontology) == ["Vehicle", "Vehicle.Car", "Vehicle.Truck"] and ontology.title == "Renamed"
    else:
        assert response.status_code == 403
        assert tags_of(ontology) == ["Vehicle", "Vehicle.Car", "Vehicle.Truck", "Person"]
        assert ontology.title == "Vehicles"


def sdk_put_body(data, drop_tag):
    """What dtlpy's Ontology.delete_labels PUTs: to_json() of the entity built from `data`,
    its labels lacking `drop_tag`. dtlpy's Label keeps only tag, displayLabel, color,
    attributes and displayData; `labels` is the entity's own list (SDK-only)."""

    def sdk_label(root):
        value = root["value"]
        return {
            "value": {
                "tag": value["tag"],
                "attributes": value["attributes"],
                "displayLabel": value["displayLabel"],
                "displayData": value["displayData"],
                "color": value["color"],
            },
            "children": [sdk_label(child) for child in root["children"]],
        }

    roots = [sdk_label(root) for root in data["roots"] if root["value"]["tag"] != drop_tag]
    return {
        "id": data["id"],
        "creator": data["creator"],
        "url": data["url"],
        "title": data["title"],
        "labels": [{"tag": r["value"]["tag"], "display_data": {}, "children": []} for r in roots],
        "metadata": data["metadata"],
        "attributes": data["metadata"]["attributes"],
        "roots": roots,
    }


def test_put_as_the_sdks_delete_labels_sends_it(client_for, members, ontology):
    # given: hotkeys moved off their defaults, and an attribute scoped to Person and Vehicle.Car
    api = client_for(members["engineer"])
    api.patch(
        url(ontology, "/labels"), {"labelsNode": [{"tag": "Person", "hotkey": "p"}], "upsert": True}, format="json"
    )
    item = {"key": "age", "title": "Age", "type": "freeText", "scope": ["Person", "Vehicle.Car"]}
    data = api.patch(url(ontology, "/attributes"), {"items": [item], "upsert": True}, format="json").json()

    # when: the SDK deletes Person
    response = api.put(url(ontology), sdk_put_body(data, "Person"), format="json")

    # then
    assert response.status_code == 200, response.json()
    assert tags_of(ontology) == ["Vehicle", "Vehicle.Car", "Vehicle.Truck"]
    flat = flat_of(ontology)
    assert [flat[t]["hotkey"] for t in ["Vehicle", "Vehicle.Car", "Vehicle.Truck"]] == ["1", "2", "3"]
    assert flat["Vehicle"]["color"] == "#112233"
    assert ontology.attributes[0]["scope"] == ["Vehicle.Car"]  # the deleted label left the scope
    assert response.json()["metadata"]["attributes"] == ontology.attributes


def test_put_without_hotkeys_or_colours_keeps_them(client_for, members, ontology):
    # given
    api = client_for(members["owner"])
    before = flat_of(ontology)

    # when: the tree comes back reordered, bare of hotkeys and colours, plus a new label first
    roots = [{"value": {"tag": "New"}}, {"value": {"tag": "Person"}}, {"value": {"tag": "Vehicle"}}]
    assert api.put(url(ontology), {"roots": roots}, format="json").status_code == 200

    # then
    after = flat_of(ontology)
    assert after["Person"]["hotkey"] == before["Person"]["hotkey"] == "4"
    assert after["Vehicle"]["hotkey"] == "1" and after["Vehicle"]["color"] == "#112233"
    assert after["Person"]["color"] == before["Person"]["color"]
    assert after["New"]["hotkey"] == "2"  # the first key free
    assert after["New"]["color"] not in {after["Person"]["color"], after["Vehicle"]["color"]}


def test_put_may_permute_hotkeys(client_for, members, ontology):
    api = client_for(members["owner"])
    roots = [{"value": {"tag": "Vehicle", "hotkey": "4"}}, {"value": {"tag": "Person", "hotkey": "1"}}]
    assert api.put(url(ontology), {"roots": roots}, format="json").status_code == 200
    flat = flat_of(ontology)
    assert (flat["Vehicle"]["hotkey"], flat["Person"]["hotkey"]) == ("4", "1")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"roots": [{"value": {"tag": "a", "hotkey": "1"}}, {"value": {"tag": "b", "hotkey": "1"}}]}, 409),
        ({"roots": [{"value": {"tag": "a.."}}]}, 400),
        ({"roots": [{"value": {"tag": "a"}, "children": "b"}]}, 400),
        ({"metadata": {"attributes": [{"key": "k", "type": "range", "range": {"min": 1, "max": 0}}]}}, 400),
        ({"attributes": [{"key": "k", "type": "options", "values": []}]}, 400),
    ],
)
def test_bad_puts_change_nothing(client_for, members, ontology, body, status):
    before = Ontology.objects.values("roots", "attributes", "title").get(pk=ontology.pk)
    response = client_for(members["owner"]).put(url(ontology), body, format="json")
    assert response.status_code == status, response.json()
    assert Ontology.objects.values("roots", "attributes", "title").get(pk=ontology.pk) == before


# --- labels -------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ALL)
def test_only_editors_patch_labels(client_for, members, ontology, role):
    body = {"labelsNode": [{"tag": "Bike", "color": "#123456"}], "upsert": True}
    response = client_for(members[role]).patch(url(ontology, "/labels"), body, format="json")
    if role in EDITORS:
        assert response.status_code == 200
        assert "Bike" in tags_of(ontology)
    else:
        assert response.status_code == 403
        assert "Bike" not in tags_of(ontology)


def test_labels_patch_as_the_sdk_sends_it(client_for, members, project, events):
    # given: an empty ontology
    ontology = services.ontology_create(user=project.creator, project_ids=[project.id])
    body = {
        "labelsNode": [
            {"tag": "a", "attributes": [], "displayData": {}},
            {"tag": "b", "color": "#123456", "displayData": {}},
            {"tag": "person.adult", "color": "#2206e7"},
        ],
        "upsert": True,
    }

    # when
    response = client_for(members["owner"]).patch(url(ontology, "/labels"), body, format="json")

    # then: the whole ontology comes back, with the parent made for the dotted tag
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["id"] == ontology.id
    assert [root["value"]["tag"] for root in data["roots"]] == ["a", "b", "person"]
    assert data["roots"][2]["children"][0]["value"]["tag"] == "adult"
    flat = flat_of(ontology)
    assert list(flat) == ["a", "b", "person", "person.adult"]
    assert flat["b"]["color"] == "#123456" and flat["person.adult"]["color"] == "#2206e7"
    assert [flat[t]["hotkey"] for t in flat] == ["1", "2", "3", "4"]
    assert flat["a"]["displayLabel"] == "a"
    assert len({flat[t]["color"] for t in flat}) == 4  # defaults are distinct from each other and the given
    assert events[-1][1] == "ontology.updated" and events[-1][2]["roots"] == data["roots"]


def test_upsert_updates_only_the_fields_given(client_for, members, ontology):
    # when
    body = {"labelsNode": [{"tag": "Vehicle.Car", "color": "#abcdef", "displayLabel": "Auto"}], "upsert": True}
    client_for(members["owner"]).patch(url(ontology, "/labels"), body, format="json")

    # then
    car = flat_of(ontology)["Vehicle.Car"]
    assert (car["color"], car["displayLabel"], car["hotkey"]) == ("#abcdef", "Auto", "2")
    assert tags_of(ontology) == ["Vehicle", "Vehicle.Car", "Vehicle.Truck", "Person"]


def test_without_upsert_existing_labels_update_and_unknown_ones_are_400(client_for, members, ontology):
    # given: dtlpy's update_label sends upsert false
    api = client_for(members["owner"])
    body = {"labelsNode": [{"tag": "Person", "color": "#000001"}], "upsert": False}

    # when / then
    assert api.patch(url(ontology, "/labels"), body, format="json").status_code == 200
    assert flat_of(ontology)["Person"]["color"] == "#000001"
    body = {"labelsNode": [{"tag": "Person", "color": "#000002"}, {"tag": "Ghost"}], "upsert": False}
    response = api.patch(url(ontology, "/labels"), body, format="json")
    assert response.status_code == 400 and "Ghost" in response.json()["message"]
    assert flat_of(ontology)["Person"]["color"] == "#000001"
    assert "Ghost" not in tags_of(ontology)


def test_add_labels_refuses_an_existing_tag_with_409(client_for, members, ontology):
    api = client_for(members["owner"])
    response = api.patch(
        url(ontology, "/addLabels"), {"labelsNode": [{"tag": "Bike"}, {"tag": "Person"}]}, format="json"
    )
    assert response.status_code == 409 and "Person" in response.json()["message"]
    assert "Bike" not in tags_of(ontology)
    response = api.patch(url(ontology, "/addLabels"), {"labelsNode": [{"tag": "Vehicle.Bike"}]}, format="json")
    assert response.status_code == 200
    assert "Vehicle.Bike" in tags_of(ontology)


@pytest.mark.parametrize(
    "node",
    [
        {"tag": ""},
        {"tag": "   "},
        {"tag": 5},
        {"tag": ".a"},
        {"tag": "a."},
        {"tag": "a..b"},
        {"tag": "x" * 101},
        {"tag": "tab\there"},
        {"color": "#123456"},
        {"tag": "a", "color": "#12345"},
        {"tag": "a", "color": "blue"},
        {"tag": "a", "color": [1, 2, 3]},
        {"tag": "a", "displayData": []},
        {"tag": "a", "attributes": "big"},
        {"tag": "a", "displayLabel": 3},
        {"tag": "a", "hotkey": "ab"},
        {"tag": "a", "hotkey": "!"},
        {"tag": "a", "icon": 7},
        {"tag": "a", "children": {"tag": "b"}},
        "a",
    ],
)
def test_bad_label_nodes_are_400_and_change_nothing(client_for, members, ontology, node):
    before = Ontology.objects.get(pk=ontology.pk).roots
    body = {"labelsNode": [{"tag": "Fine"}, node], "upsert": True}
    response = client_for(members["owner"]).patch(url(ontology, "/labels"), body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["message"]
    assert Ontology.objects.get(pk=ontology.pk).roots == before


def test_a_tag_given_twice_in_one_request_is_400(client_for, members, ontology):
    body = {"labelsNode": [{"tag": "Bike"}, {"tag": "Bike", "color": "#000000"}], "upsert": True}
    response = client_for(members["owner"]).patch(url(ontology, "/labels"), body, format="json")
    assert response.status_code == 400 and "twice" in response.json()["message"]
    assert "Bike" not in tags_of(ontology)


def test_a_parent_made_for_a_dotted_tag_may_then_be_given(client_for, members, ontology):
    body = {"labelsNode": [{"tag": "Animal.Dog"}, {"tag": "Animal", "color": "#0000ff"}], "upsert": True}
    assert client_for(members["owner"]).patch(url(ontology, "/labels"), body, format="json").status_code == 200
    flat = flat_of(ontology)
    assert flat["Animal"]["color"] == "#0000ff" and "Animal.Dog" in flat


def test_nested_children_in_label_nodes(client_for, members, ontology):
    body = {"labelsNode": [{"tag": "Animal", "children": [{"tag": "Dog"}, {"value": {"tag": "Cat"}}]}], "upsert": True}
    assert client_for(members["owner"]).patch(url(ontology, "/labels"), body, format="json").status_code == 200
    assert tags_of(ontology)[-3:] == ["Animal", "Animal.Dog", "Animal.Cat"]


def test_icons_and_display_data_survive(client_for, members, ontology):
    api = client_for(members["owner"])
    node = {"tag": "Person", "icon": "mdi-account", "displayData": {"shape": "round"}}
    api.patch(url(ontology, "/labels"), {"labelsNode": [node], "upsert": True}, format="json")
    person = flat_of(ontology)["Person"]
    assert person["icon"] == "mdi-account"
    assert person["displayData"] == {"shape": "round", "hotkey": "4", "icon": "mdi-account"}


# --- hotkeys ------------------------------------------------------------------------------------
def test_hotkeys_go_1_to_9_then_a_to_z_then_none(client_for, members, project):
    ontology = services.ontology_create(user=project.creator, project_ids=[project.id])
    nodes = [{"tag": f"label{index:02d}"} for index in range(37)]
    response = client_for(members["owner"]).patch(
        url(ontology, "/labels"), {"labelsNode": nodes, "upsert": True}, format="json"
    )
    assert response.status_code == 200
    keys = [value["hotkey"] for _tag, value in ontology_labels_flat(Ontology.objects.get(pk=ontology.pk))]
    assert keys == [*"123456789abcdefghijklmnopqrstuvwxyz", None, None]


def test_hotkeys_follow_tree_order_and_skip_keys_taken(client_for, members, project):
    roots = [{"value": {"tag": "a", "hotkey": "2"}, "children": [{"value": {"tag": "b"}}]}, {"value": {"tag": "c"}}]
    ontology = services.ontology_create(user=project.creator, project_ids=[project.id], roots=roots)
    assert [v["hotkey"] for _t, v in ontology_labels_flat(ontology)] == ["2", "1", "3"]


def test_a_hotkey_is_editable(client_for, members, ontology):
    body = {"labelsNode": [{"tag": "Person", "hotkey": "P"}], "upsert": True}
    response = client_for(members["owner"]).patch(url(ontology, "/labels"), body, format="json")
    assert response.status_code == 200
    person = flat_of(ontology)["Person"]
    assert person["hotkey"] == "p" and person["displayData"]["hotkey"] == "p"


def test_a_hotkey_in_display_data_counts(client_for, members, ontology):
    body = {"labelsNode": [{"tag": "Person", "displayData": {"hotkey": "z"}}], "upsert": True}
    client_for(members["owner"]).patch(url(ontology, "/labels"), body, format="json")
    assert flat_of(ontology)["Person"]["hotkey"] == "z"


def test_taking_another_labels_hotkey_is_409_and_changes_nothing(client_for, members, ontology):
    body = {"labelsNode": [{"tag": "Person", "hotkey": "1", "color": "#000000"}], "upsert": True}
    response = client_for(members["owner"]).patch(url(ontology, "/labels"), body, format="json")
    assert response.status_code == 409
    assert "Vehicle" in response.json()["message"] and response.json()["details"]["usedBy"] == "Vehicle"
    person = flat_of(ontology)["Person"]
    assert (person["hotkey"], person["color"]) != ("1", "#000000")


def test_two_labels_may_swap_hotkeys_in_one_request(client_for, members, ontology):
    body = {"labelsNode": [{"tag": "Vehicle", "hotkey": "4"}, {"tag": "Person", "hotkey": "1"}], "upsert": True}
    assert client_for(members["owner"]).patch(url(ontology, "/labels"), body, format="json").status_code == 200
    flat = flat_of(ontology)
    assert (flat["Vehicle"]["hotkey"], flat["Person"]["hotkey"]) == ("4", "1")


def test_a_new_label_takes_the_first_free_hotkey(client_for, members, ontology):
    api = client_for(members["owner"])
    api.patch(url(ontology, "/labels"), {"labelsNode": [{"tag": "Vehicle", "hotkey": "v"}]}, format="json")
    api.patch(url(ontology, "/labels"), {"labelsNode": [{"tag": "Bike"}], "upsert": True}, format="json")
    assert flat_of(ontology)["Bike"]["hotkey"] == "1"


# --- delete -------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ALL)
def test_only_editors_delete(client_for, members, ontology, role):
    response = client_for(members[role]).delete(url(ontology))
    assert response.status_code == (200 if role in EDITORS else 403)
    assert Ontology.objects.filter(pk=ontology.pk).exists() is (role not in EDITORS)


def test_an_ontology_in_a_recipe_cannot_be_deleted(client_for, members, ontology, recipe):
    response = client_for(members["owner"]).delete(url(ontology))
    assert response.status_code == 409 and response.json()["details"]["recipeIds"] == [recipe.id]
    assert Ontology.objects.filter(pk=ontology.pk).exists()


def test_deleting_the_project_takes_its_ontologies_and_recipes(client_for, members, project, ontology, recipe):
    assert client_for(members["owner"]).delete(f"/api/v1/projects/{project.id}").status_code == 200
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not Ontology.objects.exists() and not RecipeOntology.objects.exists()


def test_delete_broadcasts(client_for, members, project, ontology, events):
    client_for(members["owner"]).delete(url(ontology))
    assert events[-1][:2] == (f"project.{project.id}", "ontology.deleted") and events[-1][2]["id"] == ontology.id


def test_a_member_of_two_projects_sees_each_ontology_with_its_own_role(client_for, members, ontology):
    # given: the annotator owns another project
    other = ProjectFactory()
    MembershipFactory(project=other, user=members["annotator"], role="engineer")
    theirs = services.ontology_create(user=other.creator, project_ids=[other.id])
    api = client_for(members["annotator"])

    # then: they edit there but not here
    body = {"labelsNode": [{"tag": "x"}], "upsert": True}
    assert api.patch(url(theirs, "/labels"), body, format="json").status_code == 200
    assert api.patch(url(ontology, "/labels"), body, format="json").status_code == 403


def test_the_openapi_schema_describes_the_endpoints(client):
    text = client.get("/api/schema/").content.decode()
    for path in ["/api/v1/ontologies/{ontology_id}/labels", "/api/v1/ontologies/{ontology_id}/attributes"]:
        assert path in text
    assert "/api/v1/recipes/{recipe_id}" in text
