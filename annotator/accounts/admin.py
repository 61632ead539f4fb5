from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from annotator.accounts.models import ApiToken, Membership, Project, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Personal info", {"fields": ["first_name", "last_name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "creator", "created_at"]
    search_fields = ["name", "id"]
    inlines = [MembershipInline]
    readonly_fields = ["id", "created_at", "updated_at"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "kind", "name", "created_at", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["kind"]
    search_fields = ["user__email", "name", "id"]
    readonly_fields = ["id", "user", "kind", "created_at", "last_used_at"]
