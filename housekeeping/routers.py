"""Database routing for the embedded channel layer (settings add it only when that layer is channels-lite's).

channels-lite keeps its messages and groups in Django models; they live in the "channels" SQLite file and
nothing else does, so the layer's writes never queue behind the app's (SQLite has one writer per file).
channels-lite ships a router too, but it would also let every other app migrate into that file.
"""

CHANNEL_LAYER_APP = "channels_lite"
CHANNEL_LAYER_DATABASE = "channels"


class ChannelLayerRouter:
    def db_for_read(self, model, **hints):
        return CHANNEL_LAYER_DATABASE if model._meta.app_label == CHANNEL_LAYER_APP else None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return (app_label == CHANNEL_LAYER_APP) == (db == CHANNEL_LAYER_DATABASE)
