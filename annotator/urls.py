from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from annotator.accounts.api import TokenView
from annotator.accounts.urls import api_urlpatterns as accounts_api
from annotator.annotations.urls import api_urlpatterns as annotations_api
from annotator.core.health import healthz
from annotator.core.urls import api_urlpatterns as core_api
from annotator.datasets.urls import api_urlpatterns as datasets_api
from annotator.exchange.urls import api_urlpatterns as exchange_api
from annotator.ontologies.urls import api_urlpatterns as ontologies_api
from annotator.tasks.urls import api_urlpatterns as tasks_api

api_v1 = [*accounts_api, *core_api, *datasets_api, *ontologies_api, *annotations_api, *tasks_api, *exchange_api]

urlpatterns = [
    path("token", TokenView.as_view(), name="token"),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("", include("annotator.datasets.page_urls")),
    path("", include("annotator.annotations.page_urls")),
    path("", include("annotator.ontologies.page_urls")),
    path("", include("annotator.tasks.page_urls")),
    path("", include("annotator.accounts.page_urls")),
]

handler400 = "annotator.core.pages.bad_request"
handler403 = "annotator.core.pages.permission_denied"
handler404 = "annotator.core.pages.page_not_found"
handler500 = "annotator.core.pages.server_error"
