"""Server-rendered pages: projects, members and API keys. Writes go through services."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from annotator.accounts import selectors, services
from annotator.accounts.forms import (
    ApiKeyForm,
    EmailLoginForm,
    MemberAddForm,
    MemberRoleForm,
    ProjectForm,
)
from annotator.core.errors import ApiError
from annotator.core.permissions import ANNOTATOR_ROLES, ROLES, Role, role_allows
from annotator.datasets.selectors import dataset_list
from annotator.tasks.selectors import project_tasks


class LoginView(auth_views.LoginView):
    form_class = EmailLoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


def _run(request: HttpRequest, action, success: str | None = None) -> bool:
    """Run a service call for a form post; show its error as a message instead of a 4xx page."""
    try:
        action()
    except ApiError as exc:
        messages.error(request, str(exc.detail))
        return False
    if success:
        messages.success(request, success)
    return True


@login_required
@require_http_methods(["GET", "POST"])
def project_list(request: HttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = {}

        def create():
            created["project"] = services.project_create(user=request.user, name=form.cleaned_data["name"])

        if _run(request, create, "Project created."):
            return redirect("project-detail", project_id=created["project"].id)
    projects = selectors.project_list(user=request.user)
    return render(request, "accounts/project_list.html", {"projects": projects, "form": form, "nav": "projects"})


@login_required
@require_http_methods(["GET", "POST"])
def project_detail(request: HttpRequest, project_id: str) -> HttpResponse:
    project = selectors.project_get(user=request.user, project_id=project_id)
    members = selectors.member_list(user=request.user, project_id=project_id)
    can_manage = role_allows(project.viewer_role, "member.manage") or role_allows(
        project.viewer_role, "member.manage_annotators"
    )
    if request.method == "POST" and not can_manage:
        raise PermissionDenied("Your role may not add members.")  # not a silent re-render of the page
    add_form = MemberAddForm(request.POST or None) if can_manage else None
    if request.method == "POST" and add_form is not None and add_form.is_valid():
        data = add_form.cleaned_data
        if _run(
            request,
            lambda: services.member_add(
                user=request.user, project_id=project_id, email=data["email"], role=data["role"]
            ),
            f"{data['email']} added as {data['role']}.",
        ):
            return redirect("project-detail", project_id=project_id)
    manages_all = role_allows(project.viewer_role, "member.manage")
    owners = sum(1 for m in members if m.role == Role.OWNER)
    for m in members:
        # Offer only the changes the services would accept: managers of annotators see
        # only those rows, and the last owner cannot be demoted or removed.
        m.manageable = can_manage and (manages_all or m.role in ANNOTATOR_ROLES)
        m.is_last_owner = m.role == Role.OWNER and owners == 1
    context = {
        "project": project,
        "members": members,
        "add_form": add_form,
        "can_manage": can_manage,
        "can_rename": role_allows(project.viewer_role, "project.update"),
        "roles": ROLES if manages_all else [r for r in ROLES if r in ANNOTATOR_ROLES],
        "datasets": dataset_list(user=request.user, project_ids=[project.id]),
        "can_create_dataset": role_allows(project.viewer_role, "dataset.create"),
        "tasks": project_tasks(user=request.user, project_id=project.id),
        "can_create_task": role_allows(project.viewer_role, "task.create"),
        "nav": "projects",
    }
    return render(request, "accounts/project_detail.html", context)


@login_required
@require_POST
def project_rename(request: HttpRequest, project_id: str) -> HttpResponse:
    form = ProjectForm(request.POST)
    if form.is_valid():
        _run(
            request,
            lambda: services.project_update(user=request.user, project_id=project_id, name=form.cleaned_data["name"]),
            "Project renamed.",
        )
    return redirect("project-detail", project_id=project_id)


@login_required
@require_POST
def project_delete(request: HttpRequest, project_id: str) -> HttpResponse:
    if _run(request, lambda: services.project_delete(user=request.user, project_id=project_id), "Project deleted."):
        return redirect("project-list")
    return redirect("project-detail", project_id=project_id)


@login_required
@require_POST
def member_role(request: HttpRequest, project_id: str, email: str) -> HttpResponse:
    form = MemberRoleForm(request.POST)
    if form.is_valid():
        role = form.cleaned_data["role"]
        _run(
            request,
            lambda: services.member_update(user=request.user, project_id=project_id, email=email, role=role),
            f"{email} is now {role}.",
        )
    else:
        messages.error(request, "Choose a valid role.")
    return redirect("project-detail", project_id=project_id)


@login_required
@require_POST
def member_remove(request: HttpRequest, project_id: str, email: str) -> HttpResponse:
    removed = _run(
        request,
        lambda: services.member_remove(user=request.user, project_id=project_id, email=email),
        f"{email} removed.",
    )
    if removed and email.lower() == request.user.email:
        return redirect("project-list")  # they left; the project page would be a 404 now
    return redirect("project-detail", project_id=project_id)


@login_required
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        created = {}

        def create():
            created["pair"] = services.api_key_create(
                user=request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
            )

        if _run(request, create):
            record, new_token = created["pair"]
            messages.success(request, f"API key “{record.name}” created.")
            form = ApiKeyForm()
    keys = selectors.api_key_list(user=request.user)
    context = {"keys": keys, "form": form, "new_token": new_token, "nav": "keys"}
    return render(request, "accounts/api_keys.html", context)


@login_required
@require_POST
def api_key_revoke(request: HttpRequest, key_id: str) -> HttpResponse:
    _run(request, lambda: services.api_key_revoke(user=request.user, token_id=key_id), "API key revoked.")
    return redirect("api-keys")
