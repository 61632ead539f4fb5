"""CompiledLookup: SQL compiled once, run with new values, giving what the queryset gives;
CompiledInsert: a row written unless a unique constraint holds its values already."""

from unittest import mock

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from annotator.accounts.models import Membership, Project
from annotator.core.compiled import CompiledInsert, CompiledLookup
from annotator.datasets.models import Blob
from tests.factories import MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def membership_of(user_id: str, project_id: str):
    return Membership.objects.select_related("user", "project__creator").filter(user_id=user_id, project_id=project_id)


def field_values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_each_call_answers_as_the_queryset_with_its_related_rows():
    lookup = CompiledLookup(membership_of)
    memberships = [MembershipFactory(role=role) for role in ("annotator", "reviewer", "owner")]
    for expected in memberships:
        found = lookup.first(expected.user_id, expected.project_id)
        reference = membership_of(expected.user_id, expected.project_id).get()
        assert field_values(found) == field_values(reference)
        # the joined rows came with it, as select_related gives them: no query to reach them
        with CaptureQueriesContext(transaction.get_connection()) as queries:
            joined = (found.user, found.project, found.project.creator)
        assert len(queries) == 0
        assert [field_values(row) for row in joined] == [
            field_values(row) for row in (reference.user, reference.project, reference.project.creator)
        ]
    # values that match nothing, and a pairing of two real values that belong to different rows
    assert lookup.first("0" * 24, memberships[0].project_id) is None
    assert lookup.rows(memberships[0].user_id, memberships[1].project_id) == []


def test_the_sql_is_compiled_once_and_each_call_is_one_query():
    lookup = CompiledLookup(membership_of)
    memberships = [MembershipFactory() for _ in range(3)]
    compiling = mock.patch.object(SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql)
    with compiling as compiles, CaptureQueriesContext(transaction.get_connection()) as queries:
        found = [lookup.first(m.user_id, m.project_id) for m in memberships]
    assert [m.pk for m in found] == [m.pk for m in memberships]
    assert compiles.call_count == 1
    assert len(queries) == 3


def test_the_queryset_is_built_once():
    build = mock.Mock(side_effect=membership_of)
    lookup = CompiledLookup(build)
    memberships = [MembershipFactory() for _ in range(3)]

    found = [lookup.first(m.user_id, m.project_id) for m in memberships]

    assert [m.pk for m in found] == [m.pk for m in memberships]
    assert build.call_count == 1  # with stand-in values, to compile


@pytest.mark.django_db(transaction=True)  # the test itself outside a transaction
def test_a_locking_lookup_runs_only_in_a_transaction_where_the_database_locks_rows():
    lookup = CompiledLookup(lambda project_id: Project.objects.select_for_update().filter(pk=project_id))
    project = ProjectFactory()
    with transaction.atomic():
        assert lookup.first(project.pk) == project  # compiled and run inside one
    if connection.features.has_select_for_update:
        with pytest.raises(TransactionManagementError):
            lookup.first(project.pk)  # outside one, as Django's own check would refuse
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            lookup.first(project.pk)
        assert queries.captured_queries[-1]["sql"].endswith("FOR UPDATE")
    else:  # SQLite: Django drops FOR UPDATE and runs the query anywhere; so does the lookup
        assert lookup.first(project.pk) == project
        with CaptureQueriesContext(connection) as queries:
            lookup.first(project.pk)
        assert "FOR UPDATE" not in queries.captured_queries[-1]["sql"]


def test_a_value_the_queryset_does_not_pass_through_unchanged_is_refused_at_compile():
    # the value is changed on its way into the SQL: the compiled query could not be reused
    lookup = CompiledLookup(lambda name: Project.objects.filter(name=name.upper()))
    with pytest.raises(ValueError, match="reached its SQL 0 times"):
        lookup.rows("anything")
    twice = CompiledLookup(lambda name: Project.objects.filter(name=name) | Project.objects.filter(creator__email=name))
    with pytest.raises(ValueError, match="reached its SQL 2 times"):
        twice.rows("anything")


def test_only_text_values_are_taken():
    lookup = CompiledLookup(lambda project_id: Project.objects.filter(pk=project_id))
    with pytest.raises(TypeError):
        lookup.rows(7)


# --- CompiledInsert ----------------------------------------------------------------------------------
def blob(sha256: str = "a" * 64, size: int = 10) -> Blob:
    return Blob(sha256=sha256, size=size, mimetype="image/png", width=2, height=3)


def test_an_insert_writes_the_row_as_create_would_in_one_statement():
    made = blob()
    with CaptureQueriesContext(transaction.get_connection()) as queries:
        assert CompiledInsert(Blob).insert(made) is True
    assert len(queries) == 1
    assert made.created_at is not None  # the fields' pre_save ran (auto_now_add)
    assert field_values(Blob.objects.get(pk=made.pk)) == field_values(made)


def test_an_inserted_instance_saves_again_as_an_update():
    # An entity id has a default: an instance still taken for new would INSERT its id twice.
    project = Project(name="Inserted", creator=ProjectFactory().creator)
    CompiledInsert(Project).insert(project)
    project.name = "Renamed"
    project.save()
    assert list(Project.objects.filter(pk=project.pk).values_list("name", flat=True)) == ["Renamed"]


def test_a_conflict_writes_nothing_and_the_transaction_goes_on():
    CompiledInsert(Blob).insert(blob(size=10))
    with transaction.atomic():
        assert CompiledInsert(Blob).insert(blob(size=99)) is False
        # on PostgreSQL a failed statement would refuse every later one until a rollback
        assert Blob.objects.get(pk="a" * 64).size == 10


def test_other_errors_still_raise_and_write_nothing():
    with pytest.raises(IntegrityError), transaction.atomic():
        CompiledInsert(Blob).insert(Blob(sha256="b" * 64, size=None, mimetype="image/png"))
    assert not Blob.objects.filter(pk="b" * 64).exists()


def test_an_insert_needs_its_primary_key_set():
    # An autoincrement key is only known after the insert: `create()` is the way for those.
    project = ProjectFactory()
    membership = Membership(user=project.creator, project=ProjectFactory(), role="annotator")
    with pytest.raises(ValueError, match="primary key"):
        CompiledInsert(Membership).insert(membership)
    assert not Membership.objects.filter(user=project.creator, role="annotator").exists()
