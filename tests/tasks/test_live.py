"""Task events reach the people concerned and no one else."""

import io

import pytest
from channels.db import database_sync_to_async

from annotator.datasets import services as datasets
from annotator.tasks.services import task_create_start, task_items_add
from tests.core.test_websocket import next_event, open_socket, watching
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.images import png

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@database_sync_to_async
def make_task():
    from annotator.core.commands import command_execute

    project = ProjectFactory()
    first = MembershipFactory(project=project, role="annotator").user
    second = MembershipFactory(project=project, role="annotator").user
    dataset = datasets.dataset_create(user=project.creator, project_id=project.id, name="Live", labels=[{"tag": "a"}])
    datasets.item_upload(user=project.creator, dataset_id=dataset.id, path="/0.png", fileobj=io.BytesIO(png()))
    command = task_create_start(
        user=project.creator,
        body={"name": "T", "datasetId": dataset.id, "workload": [{"assigneeId": first.email, "load": 100}]},
    )
    command_execute(command_id=command.id)
    return project, command.spec["createdTaskId"], dataset, first, second


@database_sync_to_async
def add_item(project, task_id, dataset, assignee):
    datasets.item_upload(
        user=project.creator, dataset_id=dataset.id, path="/1.png", fileobj=io.BytesIO(png(color=(1, 1, 1)))
    )
    task_items_add(
        user=project.creator,
        task_id=task_id,
        body={"query": {"filter": {"name": "1.png"}}, "workload": [{"assigneeId": assignee.email, "load": 100}]},
    )


async def test_the_assignee_hears_of_new_items_and_others_do_not():
    project, task_id, dataset, first, second = await make_task()
    first_socket, _, _ = await open_socket(first)
    await first_socket.receive_json_from()  # hello
    second_socket, _, _ = await open_socket(second)
    await second_socket.receive_json_from()
    manager_socket, _, _ = await watching(project.creator, f"project.{project.id}")
    stranger_socket, _, _ = await open_socket(await database_sync_to_async(UserFactory)())
    await stranger_socket.receive_json_from()

    await add_item(project, task_id, dataset, second)

    event = await next_event(second_socket)
    assert event["event"] == "assignment.changed" and event["data"] == {"taskId": task_id}
    heard = [(await next_event(manager_socket))["event"] for _ in range(2)]
    assert heard == ["item.created", "task.updated"]
    assert await first_socket.receive_nothing(timeout=0.3)
    assert await stranger_socket.receive_nothing(timeout=0.1)
    for socket in (first_socket, second_socket, manager_socket, stranger_socket):
        await socket.disconnect()
