from django.urls import path

from annotator.tasks import views

urlpatterns = [
    path("work/", views.my_work, name="my-work"),
    path("projects/<str:project_id>/tasks/new", views.task_create, name="task-create"),
    path("tasks/<str:task_id>/", views.task_detail, name="task-detail"),
]
