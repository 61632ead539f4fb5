# ruff: noqa: E402 - Django must be set up before the app and the websocket stack are imported.
import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
django.setup(set_prefix=False)

from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path

from annotator.accounts.ws_auth import WebsocketAuthStack
from annotator.core.consumers import EventsConsumer
from annotator.core.sync_http import SyncHttpApp

websocket_urlpatterns = [path("ws/", EventsConsumer.as_asgi())]

application = ProtocolTypeRouter(
    {
        "http": SyncHttpApp(),
        "websocket": WebsocketAuthStack(URLRouter(websocket_urlpatterns)),
    }
)

# Everything loaded so far lives as long as the process: the cyclic collector need not walk it
# again. Its full collections walked Django's ~140,000 objects every few hundred requests.
gc.freeze()
