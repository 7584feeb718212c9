"""Piccolo's configuration module (PICCOLO_CONF=portal.piccolo_conf): the engine comes from
the same environment as the rest of the settings, so piccolo's CLI and the app agree."""

import os

from piccolo.conf.apps import AppRegistry

from portal.db import engine_for
from portal.settings import database_url_from

DB = engine_for(database_url_from(os.environ))

APP_REGISTRY = AppRegistry(apps=["portal.piccolo_app"])
