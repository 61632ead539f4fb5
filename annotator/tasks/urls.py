from django.urls import path

from annotator.tasks import api

api_urlpatterns = [
    path("annotationtasks", api.TaskListView.as_view(), name="api-task-list"),
    path("annotationtasks/query", api.TaskQueryView.as_view(), name="api-task-query"),
    path("annotationtasks/<str:task_id>", api.TaskDetailView.as_view(), name="api-task-detail"),
    path("annotationtasks/<str:task_id>/stats", api.TaskStatsView.as_view(), name="api-task-stats"),
    path("annotationtasks/<str:task_id>/addToTask", api.TaskAddItemsView.as_view(), name="api-task-add-items"),
    path(
        "annotationtasks/<str:task_id>/removeFromTask", api.TaskRemoveItemsView.as_view(), name="api-task-remove-items"
    ),
    path("annotationtasks/<str:task_id>/annotators", api.TaskAnnotatorsView.as_view(), name="api-task-annotators"),
    path(
        "annotationtasks/<str:task_id>/annotators/<str:assignment_id>",
        api.TaskAnnotatorRemoveView.as_view(),
        name="api-task-annotator-remove",
    ),
    path("annotationtasks/<str:task_id>/pull", api.TaskPullView.as_view(), name="api-task-pull"),
    path("annotationtasks/<str:task_id>/next", api.TaskNextView.as_view(), name="api-task-next"),
    path("assignments", api.AssignmentListView.as_view(), name="api-assignment-list"),
    path("users/me/assignments", api.MyAssignmentsView.as_view(), name="api-my-assignments"),
    path("assignments/items/tasks/<str:task_id>/status", api.TaskItemStatusView.as_view(), name="api-task-item-status"),
    path("assignments/<str:assignment_id>", api.AssignmentDetailView.as_view(), name="api-assignment-detail"),
    path("assignments/<str:assignment_id>/queue", api.AssignmentQueueView.as_view(), name="api-assignment-queue"),
    path(
        "assignments/<str:assignment_id>/reassign", api.AssignmentReassignView.as_view(), name="api-assignment-reassign"
    ),
    path(
        "assignments/<str:assignment_id>/redistribute",
        api.AssignmentRedistributeView.as_view(),
        name="api-assignment-redistribute",
    ),
    path(
        "assignments/<str:assignment_id>/items/<str:item_id>/status",
        api.AssignmentItemStatusView.as_view(),
        name="api-assignment-item-status",
    ),
]
