# ruff: noqa: E402 - Django must be set up before the websocket stack is imported.
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path

from annotator.accounts.ws_auth import WebsocketAuthStack
from annotator.core.consumers import EventsConsumer

websocket_urlpatterns = [path("ws/", EventsConsumer.as_asgi())]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": WebsocketAuthStack(URLRouter(websocket_urlpatterns)),
    }
)
