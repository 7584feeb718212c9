"""The ASGI application for servers: `uvicorn portal.asgi:app`."""

from portal.app import create_app
from portal.settings import load_settings

app = create_app(load_settings())
